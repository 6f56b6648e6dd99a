import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { Lease, RunLedger } from '@nightshift/beat';
import { beatKeys } from '@nightshift/beat-state';

let redis: Redis;
const prefixes: string[] = [];

before(async () => {
  const { redisUrl } = await requireServices('redis');
  redis = new Redis(redisUrl);
});
after(async () => {
  for (const prefix of prefixes) {
    const found = await redis.keys(`${prefix}:*`);
    if (found.length > 0) await redis.del(...found);
  }
  redis.disconnect();
});

test('runs a leader claimed and died before sending are handed to the next leader; sent, missed and its own are not', async () => {
  const prefix = randomPrefix('stranded');
  prefixes.push(prefix);
  const k = beatKeys(prefix);
  const a = new Lease(redis, k, 10_000, 'a');
  const b = new Lease(redis, k, 10_000, 'b');
  const ledgerA = new RunLedger(redis, k, a, 60_000, 'a');
  const ledgerB = new RunLedger(redis, k, b, 60_000, 'b');
  const t = Date.parse('2025-06-01T12:00:00Z');

  await a.refresh();
  for (const entry of ['e1', 'e2', 'e3', 'e4']) {
    assert.equal((await ledgerA.start(entry, t)) !== 'not-leader', true);
    assert.equal(await ledgerA.claim(entry, t + 60_000), 'claimed');
  }
  await ledgerA.record('e1', t + 60_000, { state: 'sent', id: 'run-e1', sentAt: new Date().toISOString() });
  await ledgerA.record('e2', t + 60_000, { state: 'missed', reason: 'expired' });
  assert.equal(await redis.zcard(k.unsent), 2, 'a run recorded sent or missed leaves the unsent set');
  assert.deepEqual(await strandedRuns(ledgerA), [], 'a leader\'s own claims are not stranded');

  // A dies between claiming e3, e4 and sending them; B takes the lease.
  a.drop();
  await redis.del(k.lease);
  await b.refresh();
  assert.deepEqual((await strandedRuns(ledgerB)).sort((x, y) => x.entry.localeCompare(y.entry)), [
    { entry: 'e3', scheduledForMs: t + 60_000 },
    { entry: 'e4', scheduledForMs: t + 60_000 },
  ]);
  assert.equal(await ledgerB.claim('e3', t + 60_000), 'handled', 'a stranded run is not claimed again (it is sent as it is)');
  await ledgerB.record('e3', t + 60_000, { state: 'sent', id: 'run-e3', sentAt: new Date().toISOString() });
  await redis.del(k.run('e4', t + 60_000));
  assert.deepEqual(await strandedRuns(ledgerB), [], 'sent by the new leader, or its claim expired: nothing left');
  assert.equal(await redis.zcard(k.unsent), 0);
});

/** The stranded runs of a ledger, by entry and fire time only. */
async function strandedRuns(ledger: RunLedger): Promise<{ entry: string; scheduledForMs: number }[]> {
  return (await ledger.stranded()).map(({ entry, scheduledForMs }) => ({ entry, scheduledForMs }));
}
