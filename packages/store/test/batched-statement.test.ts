import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchedStatement } from '../src/batched-statement.ts';

interface Call { readonly name: string; readonly value: number }

/** A statement that records each batch it was given and answers for the names it knows. */
function recording(fail: (calls: readonly Call[]) => boolean = () => false) {
  const batches: string[][] = [];
  let release: (() => void) | undefined;
  const statement = new BatchedStatement<Call, number>(async (calls) => {
    batches.push(calls.map((call) => call.name));
    if (release === undefined) await new Promise<void>((resolve) => { release = resolve; });
    if (fail(calls)) throw new Error(`batch of ${calls.length} failed`);
    return new Map(calls.filter((call) => call.name !== 'missing').map((call) => [call.name, call.value * 10]));
  });
  return { statement, batches, go: () => { release?.(); release = () => {}; } };
}

test('calls made in one turn go in one statement, those made while it runs in the next, each answered for its own name', async () => {
  const { statement, batches, go } = recording();
  const first = [statement.call({ name: 'b', value: 2 }), statement.call({ name: 'a', value: 1 }), statement.call({ name: 'missing', value: 0 })];
  await new Promise((resolve) => setImmediate(resolve));
  const second = [statement.call({ name: 'c', value: 3 }), statement.call({ name: 'd', value: 4 })];
  go();
  assert.deepEqual(await Promise.all(first), [20, 10, undefined]);
  assert.deepEqual(await Promise.all(second), [30, 40]);
  assert.deepEqual(batches, [['a', 'b', 'missing'], ['c', 'd']], 'two statements, each in name order');
});

test('two calls of one name never share a statement: the later one waits for the next', async () => {
  const { statement, batches, go } = recording();
  go();
  const answers = await Promise.all([statement.call({ name: 'x', value: 1 }), statement.call({ name: 'y', value: 2 }), statement.call({ name: 'x', value: 3 })]);
  assert.deepEqual(answers, [10, 20, 30]);
  assert.deepEqual(batches, [['x', 'y'], ['x']]);
});

test('a batch that fails is run call by call: only the failing call fails', async () => {
  const { statement, batches, go } = recording((calls) => calls.some((call) => call.name === 'bad'));
  go();
  const outcomes = await Promise.allSettled([statement.call({ name: 'ok', value: 1 }), statement.call({ name: 'bad', value: 2 }), statement.call({ name: 'fine', value: 3 })]);
  assert.deepEqual(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)), [10, 'batch of 1 failed', 30]);
  assert.deepEqual(batches[0], ['bad', 'fine', 'ok']);
  assert.deepEqual(batches.slice(1).sort(), [['bad'], ['fine'], ['ok']]);
});

test('a failure every call shares (PostgreSQL unreachable) fails the batch at once, without asking again call by call', async () => {
  let runs = 0;
  const statement = new BatchedStatement<Call, number>(async () => {
    runs += 1;
    throw new Error('unreachable');
  }, { shared: (error) => (error as Error).message === 'unreachable' });
  const outcomes = await Promise.allSettled([statement.call({ name: 'a', value: 1 }), statement.call({ name: 'b', value: 2 })]);
  assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
  assert.equal(runs, 1);
});
