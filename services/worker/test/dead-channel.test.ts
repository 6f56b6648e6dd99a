// A worker whose connection dies holds deliveries it can no longer settle: RabbitMQ takes them back and delivers
// them again. Those not started must not start here; those running finish, without an ack on the dead channel.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { closeConnections, connectionsNamed, eventually } from '@nightshift/test-helpers';
import { echo, ledger } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

interface Start { readonly id: string; readonly redelivered: boolean; readonly deliveryCount: number; readonly at: number }

/** The `ledger` task's lines: every start, and each id's first end. */
function readLedger(marker: string): { starts: Start[]; ends: Map<string, number> } {
  const starts: Start[] = [];
  const ends = new Map<string, number>();
  const text = existsSync(marker) ? readFileSync(marker, 'utf8') : '';
  for (const line of text.split('\n').filter(Boolean)) {
    const [kind, id = '', ...rest] = line.split(' ');
    if (kind === 'start') starts.push({ id, redelivered: rest[0] === 'true', deliveryCount: Number(rest[1]), at: Number(rest[2]) });
    else if (!ends.has(id)) ends.set(id, Number(rest[0]));
  }
  return { starts, ends };
}

const harnesses: Harness[] = [];
after(async () => { await Promise.all(harnesses.map((h) => h.close())); });

test('a redelivered message says so to its task: ctx.redelivered is true and ctx.deliveryCount counts the earlier delivery', async () => {
  const h = await harness();
  harnesses.push(h);
  const marker = h.marker('redelivered');
  const id = await h.client.send(ledger, [0, marker]);
  // Another consumer takes it and gives it back unsettled, as a worker on a lost connection would.
  const queue = h.client.broker.names.queue('default');
  const taken = await eventually('the message', () => h.raw.get(queue, { noAck: false }).then((m) => m || undefined));
  assert.equal(taken.properties.messageId, id);
  h.raw.nack(taken, false, true);
  await h.worker();
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  const { starts } = readLedger(marker);
  assert.equal(starts.length, 1);
  assert.equal(starts[0]?.redelivered, true);
  assert.ok((starts[0]?.deliveryCount ?? 0) >= 1, `deliveryCount ${starts[0]?.deliveryCount}`);
});

test('a lost connection: the prefetched tasks not started are not started from the dead channel; the running ones finish here, and their copies are acked without running', async () => {
  const h = await harness();
  harnesses.push(h);
  const name = `dead-channel-${randomUUID().slice(0, 8)}`;
  const concurrency = 2;
  // All within the prefetch: two running, two ready in their sandboxes, four waiting for a place.
  const count = concurrency * 4;
  const marker = h.marker('ledger');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await h.client.send(ledger, [1_500, marker]));
  const worker = await h.worker({ name, concurrency });
  const connections = await connectionsNamed(`nightshift ${name}`);
  await eventually('the first tasks to start', () => readLedger(marker).starts.length >= concurrency, 20_000, 10);
  // Mid-run: every message is with the worker by now (the prefetch covers them all), none comes to it fresh later.
  await eventually('the running tasks to be mid-run', () => readLedger(marker).starts.every((s) => Date.now() - s.at >= 300), 5_000, 10);
  await closeConnections(connections);
  // The moment the worker knew: a task that ended just before it may have started the next one on a channel still
  // open (the close takes the management API 10–200 ms under load); from then on nothing may start from it.
  const noticed = await eventually('the worker to see its channel close', () => h.logs.find((line) => line.msg.startsWith('the channel closed with')), 20_000, 5);
  const closedAt = noticed.at;

  for (const id of ids) await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id, 60_000);
  // Every copy the broker delivered again is ahead of a message sent now (a quorum queue serves returns first,
  // and the worker starts in arrival order): once it has run and nothing runs, every copy has had its chance.
  const last = await h.client.send(echo, ['last']);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === last, 60_000);
  await eventually('the worker to be idle', () => worker.worker.active === 0, 20_000, 10);
  const { starts, ends } = readLedger(marker);
  const firstStart = new Map<string, number>();
  for (const start of starts) if (!firstStart.has(start.id)) firstStart.set(start.id, start.at);
  const runningAtClose = ids.filter((id) => (firstStart.get(id) ?? Infinity) <= closedAt && (ends.get(id) ?? Infinity) > closedAt).length;
  const startedTwice = ids.filter((id) => starts.filter((s) => s.id === id).length >= 2).length;
  const fromDeadChannel = starts.filter((s) => s.at > closedAt && !s.redelivered);
  console.log(`${count} tasks, ${runningAtClose} running at the close, ${startedTwice} started twice, ${fromDeadChannel.length} started from the dead channel`);

  assert.deepEqual(fromDeadChannel, [], 'every start after the close is a redelivery on the new channel');
  assert.ok(runningAtClose >= 1 && runningAtClose <= concurrency, `${runningAtClose} running at the close`);
  // The copies of the running ones come back to this worker, wait for their originals and find them finished.
  assert.equal(startedTwice, 0, `${startedTwice} tasks started twice, ${runningAtClose} were running at the close`);
  const suppressed = h.events.filter((e) => e.type === 'task.duplicate-suppressed' && ids.includes(String(e.id)));
  assert.equal(suppressed.length, runningAtClose, 'each copy of a running task is a suppressed duplicate');
  for (const start of starts.filter((s) => s.at > closedAt)) assert.ok(start.deliveryCount >= 1, `a redelivery counts the earlier delivery: ${JSON.stringify(start)}`);
  for (const id of ids) assert.ok(ends.has(id), `${id} ran to the end`);

  const errors = h.logs.filter((line) => line.level === 'error');
  assert.deepEqual(errors, [], 'no error noise from acks on the dead channel');
  const dropped = h.logs.filter((line) => line.msg.startsWith('the channel closed with'));
  assert.equal(dropped.length, 1, 'one line for the batch the channel took with it');
  assert.equal(dropped[0]?.level, 'info');
});
