import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { BulkRequeues, DeadLetters, Store } from '@nightshift/store';
import type { HealthApi } from '@nightshift/health-api';
import { echoDeadLetter } from './fixtures/dead-letters.ts';
import { eventually, installation, type Installation } from './support.ts';

// A bulk requeue outlives the health-api running it: restarted mid-job, the next one resumes it where it was,
// sends each dead letter once, and answers for its progress; a lost one's job is taken over when its lease lapses.
let site: Installation;
let store: Store;
let deadLetters: DeadLetters;
let jobs: BulkRequeues;

before(async () => {
  site = await installation();
  // Its own connections: the health-apis come and go.
  store = new Store({ url: site.env.NIGHTSHIFT_DATABASE_URL as string, schema: site.env.NIGHTSHIFT_DATABASE_SCHEMA as string });
  deadLetters = new DeadLetters(store);
  jobs = new BulkRequeues(store);
});
after(async () => {
  await store?.close();
  await site?.close();
});

interface Job { id: string; total: number; done: number; state: string; resumed: number; error: string | null }
const auth = { authorization: `Basic ${Buffer.from('alice:correct-horse').toString('base64')}` };
const job = async (api: HealthApi, id: string) => (await api.server.inject({ method: 'GET', url: `/api/dead-letters/bulk/${id}`, headers: auth })).json() as Job;
const requeuedOnce = async (ids: readonly string[]) => {
  for (const id of ids) assert.deepEqual((await deadLetters.reviews(id)).map((r) => r.action), ['requeued'], `dead letter #${id} sent once`);
};

test('a health-api restarted in the middle of a bulk requeue: the next one resumes it, each letter is sent once, and it reports the job', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 8; i += 1) ids.push((await deadLetters.record(echoDeadLetter([i], {}, { error: { name: 'RestartError', message: 'partner down' } }))).id);
  const started = await site.request('POST', '/api/dead-letters/bulk/requeue', { errorClass: 'RestartError', limit: 8, perSecond: 4, note: 'partner is back' });
  assert.equal(started.status, 202, started.body);
  const { id } = started.json as Job;
  await eventually('a few replays', async () => ((await job(site.api, id)).done >= 2 ? true : undefined), 20_000, 50);
  await site.api.stop();
  const cut = await jobs.get(id);
  assert.ok(cut !== undefined && cut.state === 'running' && cut.done >= 2 && cut.done < 8, `let go mid-way, still to be done: ${JSON.stringify(cut)}`);
  assert.equal(await deadLetters.count({ errorClass: 'RestartError', status: 'requeued' }), cut.done, 'its count is exact');

  const restarted = await site.replica();
  assert.ok((await job(restarted, id)).done >= cut.done, 'the restarted one reports it');
  const finished = await eventually('the job to finish after the restart', async () => {
    const now = await job(restarted, id);
    return now.state === 'finished' ? now : undefined;
  }, 20_000, 100);
  assert.equal(finished.done, 8);
  assert.ok(finished.resumed >= 1, 'taken over after the restart');
  assert.equal(await deadLetters.count({ errorClass: 'RestartError', status: 'pending' }), 0);
  await requeuedOnce(ids);
});

test('a job whose health-api was lost (its lease lapsed) is taken over and finished; a letter that died after it started is left alone', async () => {
  const live = site.replica();
  const ids: string[] = [];
  for (let i = 0; i < 3; i += 1) ids.push((await deadLetters.record(echoDeadLetter([i], {}, { error: { name: 'LostError', message: 'partner down' } }))).id);
  // Seeded as a health-api killed mid-job leaves it: running, held by a holder whose lease has lapsed, one done.
  const startedAt = new Date();
  const seeded = await jobs.create({ id: randomUUID(), by: 'alice', filter: { errorClass: 'LostError', until: startedAt }, perSecond: 50, total: 3 }, 'killed-host:1', 3_600_000);
  await deadLetters.requeue({ ids: [ids[0] as string] }, { publish: async () => {}, by: 'alice', onReplayed: (client) => jobs.countReplay(client, seeded.id) });
  await store.query(`UPDATE ${store.table('bulk_requeues')} SET lease_until = now() - interval '1 second' WHERE id = $1`, [seeded.id]);
  const late = await deadLetters.record(echoDeadLetter(['late'], {}, { error: { name: 'LostError', message: 'partner down' }, lastFailedAt: new Date(startedAt.getTime() + 1_000).toISOString() }));
  const finished = await eventually('the lapsed job to be taken over and finished', async () => {
    const now = await job(await live, seeded.id);
    return now.state === 'finished' ? now : undefined;
  }, 20_000, 100);
  assert.deepEqual([finished.done, finished.resumed], [3, 1]);
  await requeuedOnce(ids);
  assert.equal((await deadLetters.get(late.id)).status, 'pending', 'dead after the job started: not part of it');
});
