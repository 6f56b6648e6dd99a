import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode, MalformedMessageError, type TaskEnvelope } from '@nightshift/core';

const valid: TaskEnvelope = {
  v: 1, id: 'a1', task: 'reports.generateDaily', args: ['usage'], kwargs: {}, attempt: 1, maxAttempts: 4,
  queue: 'default', sentAt: '2026-11-24T10:00:00.000Z', origin: { type: 'producer', producer: 'test' },
};

test('encode then decode gives the same envelope', () => {
  const result = decode(encode(valid));
  assert.ok(result.ok);
  assert.deepEqual(result.envelope, valid);
  const beat = { ...valid, eta: '2026-11-24T10:00:05Z', expires: '2026-11-24T11:00:00Z', origin: { type: 'beat', beat: 'nightly', scheduledFor: '2026-11-24T00:00:00Z' } } as const;
  assert.ok(decode(encode(beat)).ok);
  for (const type of ['manual', 'backfill'] as const) {
    const scheduleRun = { ...valid, origin: { type, beat: 'nightly', scheduledFor: '2026-11-24T00:00:00Z', by: 'ana' } } as const;
    assert.deepEqual(decode(encode(scheduleRun)), { ok: true, envelope: scheduleRun });
  }
});

const cases: Array<[string, unknown, RegExp]> = [
  ['not JSON', 'hello{', /body is not valid JSON .*first bytes: "hello\{"/],
  ['an array', '[1,2]', /body must be a JSON object, got an array/],
  ['no id', { ...valid, id: undefined }, /field "id" must be a non-empty string, got nothing \(the field is missing\)/],
  ['empty task', { ...valid, task: '' }, /field "task" must be a non-empty string/],
  ['args not a list', { ...valid, args: 'x' }, /field "args" must be an array, got string "x"/],
  ['kwargs a list', { ...valid, kwargs: [] }, /field "kwargs" must be an object, got an array/],
  ['attempt 0', { ...valid, attempt: 0 }, /field "attempt" must be a whole number ≥ 1, got number 0/],
  ['bad time', { ...valid, sentAt: 'yesterday' }, /field "sentAt" must be an ISO 8601 time/],
  ['bad eta', { ...valid, eta: 5 }, /field "eta" must be an ISO 8601 time, got number 5/],
  ['unknown origin', { ...valid, origin: { type: 'carrier-pigeon' } }, /origin\.type" must be "producer", "beat", "manual", "backfill", "replay" or "retry", got string "carrier-pigeon"/],
  ['run now without who', { ...valid, origin: { type: 'manual', beat: 'x', scheduledFor: '2026-11-24T00:00:00Z' } }, /origin\.by" must be a string for origin type "manual"/],
  ['beat origin without time', { ...valid, origin: { type: 'beat', beat: 'x' } }, /origin\.scheduledFor" must be a string/],
  ['other version', { ...valid, v: 2 }, /field "v" must be 1, got number 2/],
];

for (const [label, body, reason] of cases) {
  test(`decode refuses ${label} with a readable reason, without throwing`, () => {
    const result = decode(typeof body === 'string' ? body : JSON.stringify(body));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.ok(result.error instanceof MalformedMessageError);
    assert.equal(result.error.code, 'E_MALFORMED_MESSAGE');
    assert.match(result.error.reason, reason);
  });
}

test('a malformed message keeps what could be read of id and task', () => {
  const result = decode(JSON.stringify({ ...valid, attempt: 'x' }));
  assert.equal(result.ok, false);
  if (!result.ok) assert.deepEqual(result.partial, { id: 'a1', task: 'reports.generateDaily' });
});

test('decode takes bytes from a Buffer slice', () => {
  const big = Buffer.concat([Buffer.from('xxxx'), encode(valid)]);
  assert.ok(decode(big.subarray(4)).ok);
});
