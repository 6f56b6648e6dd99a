import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import {
  ConfigError, deserializeError, MalformedMessageError, PermanentError, RetryableError, serializeError,
  SoftTimeLimitExceeded, TimeLimitExceeded, UnknownTaskError,
} from '@nightshift/core';

const samples = [
  new SoftTimeLimitExceeded(1_000),
  new TimeLimitExceeded(2_000),
  new PermanentError('card declined', { cause: new TypeError('bad card') }),
  new RetryableError('busy', { retryAfterMs: 5_000 }),
  new UnknownTaskError('nope'),
  new MalformedMessageError('missing id'),
  new ConfigError('NIGHTSHIFT_X: bad', { field: 'NIGHTSHIFT_X' }),
];

test('every error has a stable code', () => {
  assert.deepEqual(samples.map((e) => e.code), [
    'E_SOFT_TIME_LIMIT', 'E_TIME_LIMIT', 'E_PERMANENT', 'E_RETRYABLE', 'E_UNKNOWN_TASK', 'E_MALFORMED_MESSAGE', 'E_CONFIG',
  ]);
});

test('errors survive a worker-thread boundary with class, code, message, stack and cause', async () => {
  // A real structured-clone hop: post the serialised errors through a MessageChannel.
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<unknown[]>((resolve) => port2.once('message', resolve));
  port1.postMessage(samples.map((e) => serializeError(e)));
  const copies = (await received).map((data) => deserializeError(data as ReturnType<typeof serializeError>));
  port1.close();
  samples.forEach((original, i) => {
    const copy = copies[i] as Error & { code?: string };
    assert.equal(Object.getPrototypeOf(copy), Object.getPrototypeOf(original), `class of ${original.name}`);
    assert.equal(copy.code, original.code);
    assert.equal(copy.message, original.message);
    assert.equal(copy.stack, original.stack);
  });
  const permanent = copies[2] as PermanentError;
  assert.ok(permanent instanceof PermanentError);
  assert.ok(permanent.cause instanceof TypeError);
  assert.equal((permanent.cause as Error).message, 'bad card');
  assert.equal((copies[3] as RetryableError).retryAfterMs, 5_000);
  assert.equal((copies[0] as SoftTimeLimitExceeded).limitMs, 1_000);
});

test('an error thrown inside a real worker thread comes back as its class', async () => {
  const worker = new Worker(new URL('./fixtures/throw-in-thread.ts', import.meta.url));
  const data = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  await worker.terminate();
  const error = deserializeError(data as ReturnType<typeof serializeError>);
  assert.ok(error instanceof PermanentError);
  assert.equal(error.message, 'from the thread');
  assert.match(error.stack ?? '', /throw-in-thread\.ts/);
  assert.ok(error.cause instanceof RangeError);
});

test('unknown classes keep their name and code; non-errors become readable', () => {
  class CardDeclined extends Error {
    code = 'card_declined';
    constructor() { super('declined'); this.name = 'CardDeclined'; }
  }
  const copy = deserializeError(serializeError(new CardDeclined())) as Error & { code?: string };
  assert.equal(copy.name, 'CardDeclined');
  assert.equal(copy.code, 'card_declined');
  assert.ok(copy instanceof Error);
  assert.equal(serializeError('just a string').message, 'just a string');
  assert.match(serializeError({ a: 1 }).message, /non-error thrown: \{"a":1\}/);
});
