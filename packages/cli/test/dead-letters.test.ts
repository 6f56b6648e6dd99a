import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, test } from 'node:test';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { decode } from '@nightshift/core';
import { DeadLetters, loadMigrations, quoteIdent, Store, type DeadLetterInput, type RecordOutcome } from '@nightshift/store';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

let env: Record<string, string>;
let store: Store;
let connection: ChannelModel;
let channel: Channel;

before(async () => {
  const { amqpUrl, databaseUrl } = await requireServices('rabbitmq', 'postgres');
  const prefix = randomPrefix('cli-dl');
  env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix, NIGHTSHIFT_PUBLISH_TIMEOUT: '5s', USER: 'ana' };
  store = new Store({ url: databaseUrl, schema: prefix });
  connection = await connect(amqpUrl);
  channel = await connection.createChannel();
});
after(async () => {
  const prefix = env.NIGHTSHIFT_PREFIX as string;
  for (const queue of ['q.reports', 'dead-letters', 'retry.1s', 'retry.5s', 'retry.30s', 'retry.2m', 'retry.10m', 'retry.1h']) await channel.deleteQueue(`${prefix}.${queue}`);
  for (const exchange of ['tasks', 'retry', 'dlx', 'events', 'control']) await channel.deleteExchange(`${prefix}.${exchange}`);
  await connection.close();
  await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(store.schema)} CASCADE`);
  await store.close();
});

function input(task: string, id: string, errorMessage = 'no answer'): DeadLetterInput {
  const envelope = { v: 1, id, task, args: [{ password: 'hunter2', day: 3 }], kwargs: {}, attempt: 3, maxAttempts: 3, queue: 'reports', sentAt: new Date().toISOString(), origin: { type: 'producer', producer: 'test' } };
  const at = new Date().toISOString();
  return {
    messageId: id, deathMark: at, task, queue: 'reports', args: envelope.args, kwargs: {}, reason: 'failed',
    error: { name: 'TimeoutError', message: errorMessage, stack: `TimeoutError: ${errorMessage}\n    at run (app.ts:1:1)` }, attempts: 3, worker: 'w1',
    lastFailedAt: at, headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, properties: {}, body: Buffer.from(JSON.stringify(envelope)),
  };
}

test('before db migrate, the dead-letter commands say to run it; db migrate applies the migrations once', async () => {
  const early = testIo({ env });
  assert.equal(await main(['dead-letters', 'list'], early), 1);
  assert.match(early.stderr.text, /has no Nightshift tables yet: run "nightshift db migrate"/);
  const first = testIo({ env });
  assert.equal(await main(['db', 'migrate'], first), 0, first.stderr.text);
  const migrations = loadMigrations();
  const applied = migrations.map((m) => `applied ${String(m.version).padStart(3, '0')}-${m.name}\n`).join('');
  assert.ok(first.stdout.text.startsWith(applied), first.stdout.text);
  assert.match(first.stdout.text, new RegExp(`schema "cli-dl-\\w+" is at version ${migrations.at(-1)?.version} in postgres:`));
  const again = testIo({ env });
  assert.equal(await main(['db', 'migrate', '--json'], again), 0);
  assert.deepEqual((JSON.parse(again.stdout.text) as { applied: unknown[] }).applied, []);
});

test('list, show, ignore and requeue', async () => {
  const deadLetters = new DeadLetters(store);
  const a = await deadLetters.record(input('reports.generate', 'msg-a'));
  const b = await deadLetters.record(input('users.sync', 'msg-b'));

  const list = testIo({ env });
  assert.equal(await main(['dead-letters', 'list'], list), 0, list.stderr.text);
  assert.match(list.stdout.lines()[0] ?? '', /^ID\s+LAST FAILED\s+STATUS\s+TASK\s+REASON\s+ATTEMPTS\s+ERROR$/);
  assert.match(list.stdout.text, new RegExp(`#${b.id} .* pending\\s+users\\.sync\\s+failed\\s+3\\s+TimeoutError: no answer`));
  const json = testIo({ env });
  assert.equal(await main(['dead-letters', 'list', '--task', 'users.sync', '--json'], json), 0);
  assert.deepEqual(json.stdout.records().map((r) => r.id), [b.id]);

  const show = testIo({ env });
  assert.equal(await main(['dead-letters', 'show', a.id], show), 0);
  assert.match(show.stdout.text, /^dead letter #\d+: reports\.generate — failed/);
  assert.match(show.stdout.text, /args:\s+\[\{"day":3,"password":"\*\*\*"\}\]/, 'jsonb orders keys its own way');
  assert.match(show.stdout.text, /next: nightshift dead-letters requeue/);
  assert.doesNotMatch(show.stdout.text, /hunter2/);

  const ignore = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', b.id, '--note', 'known outage'], ignore), 0);
  assert.equal(ignore.stdout.text, `ignored #${b.id} (known outage)\n`);
  const ignored = await deadLetters.get(b.id);
  assert.deepEqual([ignored.status, ignored.statusBy, ignored.statusNote], ['ignored', 'ana', 'known outage']);

  const requeue = testIo({ env });
  assert.equal(await main(['dead-letters', 'requeue', a.id], requeue), 0, requeue.stderr.text);
  assert.match(requeue.stdout.text, new RegExp(`^requeued #${a.id} \\(reports\\.generate\\) to queue "reports" as [0-9a-f-]{36}\\n$`));
  const message = await channel.get(`${env.NIGHTSHIFT_PREFIX}.q.reports`, { noAck: true });
  assert.ok(message, 'the task is back in its queue');
  const decoded = decode(message.content);
  assert.ok(decoded.ok);
  assert.equal(decoded.envelope.attempt, 1);
  assert.deepEqual(decoded.envelope.origin, { type: 'replay', deadLetterId: a.id, originalId: 'msg-a' });
  assert.deepEqual(decoded.envelope.args, [{ password: 'hunter2', day: 3 }], 'the replay gets the real args');
  assert.equal((await deadLetters.get(a.id)).status, 'requeued');

  const twice = testIo({ env });
  assert.equal(await main(['dead-letters', 'requeue', a.id], twice), 2);
  assert.match(twice.stderr.text, /was already requeued at .* by ana; add --force to send it again/);
  const forced = testIo({ env });
  assert.equal(await main(['dead-letters', 'requeue', a.id, '--force', '--json'], forced), 0);
  assert.equal(forced.stdout.records()[0]?.id, a.id);
  await channel.purgeQueue(`${env.NIGHTSHIFT_PREFIX}.q.reports`);
});

test('mistakes say what to do next', async () => {
  const unknown = testIo({ env });
  assert.equal(await main(['dead-letters', 'show', '999999'], unknown), 2);
  assert.equal(unknown.stderr.text, 'error: no dead letter #999999 in the store\n"nightshift dead-letters list" shows the ids there are, of every status, newest first\n');
  const notId = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', 'abc'], notId), 2);
  assert.match(notId.stderr.text, /"abc" is not a dead letter id/);
  const noAction = testIo({ env });
  assert.equal(await main(['dead-letters'], noAction), 2);
  assert.match(noAction.stderr.text, /needs an action\nthe actions are list, show <id>, requeue <id…> and ignore <id…>/);
  const typo = testIo({ env });
  assert.equal(await main(['dead-letters', 'lsit'], typo), 2);
  assert.match(typo.stderr.text, /^error: unknown action "lsit"\ndid you mean "nightshift dead-letters list"\? \(the actions are list, show <id>, requeue <id…> and ignore <id…>\)\n$/);
  const misplaced = testIo({ env });
  assert.equal(await main(['dead-letters', 'show', '1', '--force'], misplaced), 2);
  assert.match(misplaced.stderr.text, /--force does not apply to "dead-letters show"/);
  const nothing = testIo({ env });
  assert.equal(await main(['dead-letters', 'requeue'], nothing), 2);
  assert.match(nothing.stderr.text, /needs ids or --task <name>/);
  const badStatus = testIo({ env });
  assert.equal(await main(['dead-letters', 'list', '--status', 'done'], badStatus), 2);
  assert.match(badStatus.stderr.text, /--status "done" is not a status\nuse pending, requeued, ignored or all/);
  const help = testIo({ env });
  assert.equal(await main(['dead-letters', '--help'], help), 0);
  assert.match(help.stdout.text, /^Usage: nightshift dead-letters <action>/);
  const down = testIo({ env: { ...env, NIGHTSHIFT_DATABASE_URL: 'postgres://postgres:s3cret@127.0.0.1:1/postgres' } });
  assert.equal(await main(['dead-letters', 'list'], down), 1);
  assert.match(down.stderr.text, /PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres is not reachable .*start it, or set NIGHTSHIFT_DATABASE_URL/);
  assert.doesNotMatch(down.stderr.text, /s3cret/);
});

test('list marks a cut error message with …; --json keeps it whole', async () => {
  const message = 'reports.generateDaily: unknown report type "sales"; expected one of usage, billing, churn';
  await new DeadLetters(store).record(input('reports.cut', 'msg-cut', message));
  const list = testIo({ env });
  assert.equal(await main(['dead-letters', 'list', '--task', 'reports.cut'], list), 0, list.stderr.text);
  assert.match(list.stdout.lines()[1] ?? '', /TimeoutError: reports\.generateDaily: unknown report type "sales";…$/);
  const json = testIo({ env });
  assert.equal(await main(['dead-letters', 'list', '--task', 'reports.cut', '--json'], json), 0);
  assert.equal(json.stdout.records()[0]?.errorMessage, message);
});

test('ignore refuses a dead letter already ignored unless --force, and then says whose review it replaced', async () => {
  const deadLetters = new DeadLetters(store);
  const { id } = await deadLetters.record(input('reports.twice', 'msg-twice'));
  const first = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', id, '--note', 'known outage'], first), 0, first.stderr.text);

  const again = testIo({ env: { ...env, USER: 'ben' } });
  assert.equal(await main(['dead-letters', 'ignore', id, '--note', 'duplicate'], again), 2);
  assert.match(again.stderr.text, new RegExp(`^error: dead letter #${id} was already ignored by ana at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ \\("known outage"\\)\nnothing was changed; add --force to ignore it again, replacing who and why\n$`));
  const kept = await deadLetters.get(id);
  assert.deepEqual([kept.statusBy, kept.statusNote], ['ana', 'known outage']);

  const forced = testIo({ env: { ...env, USER: 'ben' } });
  assert.equal(await main(['dead-letters', 'ignore', id, '--note', 'duplicate', '--force'], forced), 0, forced.stderr.text);
  assert.match(forced.stdout.text, new RegExp(`^ignored #${id} \\(duplicate\\)\n#${id} was already ignored by ana at [^(]+ \\("known outage"\\); that review is replaced\n$`));
  const replaced = await deadLetters.get(id);
  assert.deepEqual([replaced.statusBy, replaced.statusNote], ['ben', 'duplicate']);

  const json = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', id, '--force', '--json'], json), 0);
  assert.deepEqual(json.stdout.records(), [{ id, status: 'ignored', by: 'ana', note: null, replaced: { by: 'ben', at: replaced.statusAt, note: 'duplicate' } }]);
});

test('requeue and ignore record the same person: the login name, or without USER the account name, never "cli"', async () => {
  const deadLetters = new DeadLetters(store);
  const toIgnore = await deadLetters.record(input('reports.who', 'msg-who-1'));
  const toRequeue = await deadLetters.record(input('reports.who', 'msg-who-2'));
  const { USER: _user, ...noUser } = env;
  const ignore = testIo({ env: noUser });
  assert.equal(await main(['dead-letters', 'ignore', toIgnore.id], ignore), 0, ignore.stderr.text);
  const requeue = testIo({ env: noUser });
  assert.equal(await main(['dead-letters', 'requeue', toRequeue.id], requeue), 0, requeue.stderr.text);
  await channel.purgeQueue(`${env.NIGHTSHIFT_PREFIX}.q.reports`);
  const who = userInfo().username;
  assert.equal((await deadLetters.get(toIgnore.id)).statusBy, who);
  assert.equal((await deadLetters.get(toRequeue.id)).statusBy, who);
});

test('with --json, the store\'s refusals and an unreachable store are JSON on stderr, with the store\'s codes', async () => {
  const unknown = testIo({ env });
  assert.equal(await main(['dead-letters', 'show', '999999', '--json'], unknown), 2);
  assert.deepEqual(unknown.stderr.records(), [{ error: { code: 'E_DEAD_LETTER_NOT_FOUND', message: 'no dead letter #999999 in the store', hint: '"nightshift dead-letters list" shows the ids there are, of every status, newest first' } }]);
  const down = testIo({ env: { ...env, NIGHTSHIFT_DATABASE_URL: 'postgres://postgres:s3cret@127.0.0.1:1/postgres' } });
  assert.equal(await main(['dead-letters', 'list', '--json'], down), 1);
  const [record, ...more] = down.stderr.records();
  assert.equal((record?.error as { code?: unknown } | undefined)?.code, 'E_STORE_UNAVAILABLE');
  assert.deepEqual(more, []);
  assert.doesNotMatch(down.stderr.text, /s3cret/);
});

test('requeue by error class and time range, paced with --rate, prints its progress; the replays\' reviews name the person', async () => {
  const deadLetters = new DeadLetters(store);
  const slow = [];
  for (let i = 0; i < 3; i += 1) slow.push(await deadLetters.record({ ...input('mail.send', `bulk-${i}-${Date.now()}`), error: { name: 'SlowError', message: 'slow' } }));
  const other = await deadLetters.record(input('mail.send', `bulk-other-${Date.now()}`));
  const unattended = testIo({ env });
  assert.equal(await main(['dead-letters', 'requeue', '--error-class', 'SlowError', '--since', '1h'], unattended), 2);
  assert.match(unattended.stderr.text, /asks before it requeues 3 dead letters, and nobody is at a terminal to answer\nadd --yes to requeue without asking \(nothing was done\)/);
  const declined = testIo({ env, answers: ['n'] });
  assert.equal(await main(['dead-letters', 'requeue', '--error-class', 'SlowError', '--since', '1h'], declined), 1);
  assert.match(declined.stderr.text, /^requeue 3 pending dead letters with error SlowError since 1h: each task runs again\? \[y\/N\] n\n/);
  for (const { id } of slow) assert.equal((await deadLetters.get(id)).status, 'pending', 'nothing requeued before the answer');
  const io = testIo({ env });
  assert.equal(await main(['dead-letters', 'requeue', '--error-class', 'SlowError', '--since', '1h', '--rate', '50', '--yes'], io), 0, io.stderr.text);
  assert.equal(io.stdout.lines().length, 3);
  assert.deepEqual(io.stderr.lines(), ['requeued 1 of 3', 'requeued 2 of 3', 'requeued 3 of 3']);
  for (const { id } of slow) assert.deepEqual((await deadLetters.reviews(id)).map((r) => [r.action, r.by]), [['requeued', 'ana']]);
  const show = testIo({ env });
  assert.equal(await main(['dead-letters', 'show', slow[0]?.id ?? ''], show), 0);
  assert.match(show.stdout.text, /\nreviews:\n {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}requeued by ana\n/);
  assert.equal((await deadLetters.get(other.id)).status, 'pending', 'another error class is left alone');
  const badRate = testIo({ env });
  assert.equal(await main(['dead-letters', 'requeue', '--error-class', 'SlowError', '--rate', 'fast'], badRate), 2);
  const yesWithIds = testIo({ env });
  assert.equal(await main(['dead-letters', 'requeue', other.id, '--yes'], yesWithIds), 2);
  assert.match(yesWithIds.stderr.text, /--yes applies to a requeue by filter/);
  assert.match(badRate.stderr.text, /--rate "fast" is not a rate/);
});

test('ignore by filter counts the pending ones, asks (or --yes), ignores oldest first within --limit, prints its progress', async () => {
  const deadLetters = new DeadLetters(store);
  const stamp = Date.now();
  const outage: RecordOutcome[] = [];
  for (let i = 0; i < 3; i += 1) outage.push(await deadLetters.record({ ...input('mail.send', `outage-${i}-${stamp}`), error: { name: 'OutageError', message: 'partner down' } }));
  const other = await deadLetters.record(input('mail.send', `outage-other-${stamp}`));
  const reviewed = await deadLetters.record({ ...input('mail.send', `outage-reviewed-${stamp}`), error: { name: 'OutageError', message: 'partner down' } });
  await deadLetters.ignore([reviewed.id], { by: 'bo', note: 'looked at it' });
  const pending = async () => (await Promise.all(outage.map((d) => deadLetters.get(d.id)))).map((d) => d.status);

  const unattended = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', '--error-class', 'OutageError', '--note', 'INC-142'], unattended), 2);
  assert.match(unattended.stderr.text, /asks before it ignores 3 dead letters, and nobody is at a terminal to answer\nadd --yes to ignore without asking \(nothing was done\)/);
  const declined = testIo({ env, answers: ['n'] });
  assert.equal(await main(['dead-letters', 'ignore', '--error-class', 'OutageError', '--since', '1h', '--note', 'INC-142'], declined), 1);
  assert.match(declined.stderr.text, /^ignore 3 pending dead letters with error OutageError since 1h, noting "INC-142"\? \[y\/N\] n\n$/);
  assert.deepEqual(await pending(), ['pending', 'pending', 'pending'], 'nothing done when declined');
  const noNote = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', '--error-class', 'OutageError', '--yes'], noNote), 2);
  assert.match(noNote.stderr.text, /needs --note/);
  const both = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', outage[0]?.id ?? '', '--task', 'mail.send', '--note', 'x'], both), 2);

  const some = testIo({ env, answers: ['y'] });
  assert.equal(await main(['dead-letters', 'ignore', '--error-class', 'OutageError', '--limit', '2', '--note', 'INC-142'], some), 0, some.stderr.text);
  assert.match(some.stderr.text, /^ignore the oldest 2 of the 3 pending dead letters with error OutageError, noting "INC-142"\? \[y\/N\] y\nignored 2 of 2\n$/);
  assert.equal(some.stdout.text, 'ignored 2 dead letters with error OutageError (INC-142)\n');
  assert.deepEqual(await pending(), ['ignored', 'ignored', 'pending'], 'the oldest two');
  for (const d of outage.slice(0, 2)) assert.deepEqual((await deadLetters.reviews(d.id)).map((r) => [r.action, r.by, r.note]), [['ignored', 'ana', 'INC-142']]);

  const rest = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', '--error-class', 'OutageError', '--note', 'INC-142', '--yes', '--json'], rest), 0, rest.stderr.text);
  assert.deepEqual(rest.stdout.records(), [{ id: outage[2]?.id, status: 'ignored', by: 'ana', note: 'INC-142', replaced: null }]);
  assert.equal((await deadLetters.get(other.id)).status, 'pending', 'another error class is left alone');
  assert.deepEqual((await deadLetters.get(reviewed.id)).statusBy, 'bo', 'a reviewed one keeps its review');
  const none = testIo({ env });
  assert.equal(await main(['dead-letters', 'ignore', '--error-class', 'OutageError', '--note', 'INC-142'], none), 0);
  assert.equal(none.stdout.text, 'nothing to ignore: no pending dead letters with error OutageError\n');
});
