import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomPrefix } from '@nightshift/test-servers';

const SHAPE = /^[a-z][a-z0-9-]*$/;

test('a prefix is short, lowercase, starts with a letter', () => {
  const prefix = randomPrefix();
  assert.match(prefix, /^t-[a-z0-9]{8}$/);
});

test('prefixes differ from call to call', () => {
  const prefixes = new Set(Array.from({ length: 1_000 }, () => randomPrefix()));
  assert.equal(prefixes.size, 1_000);
});

test('the label is kept, cleaned up to letters, digits and -', () => {
  assert.match(randomPrefix('retry'), /^retry-[a-z0-9]{8}$/);
  assert.match(randomPrefix('Dead Letters/Requeue'), /^dead-letters-requeue-[a-z0-9]{8}$/);
  assert.match(randomPrefix('42 beat'), /^beat-[a-z0-9]{8}$/);
  assert.match(randomPrefix('%%%'), /^t-[a-z0-9]{8}$/);
  for (const label of ['x'.repeat(200), 'ÄÖÜ', '-', '  a  ']) {
    const prefix = randomPrefix(label);
    assert.match(prefix, SHAPE);
    assert.ok(prefix.length <= 33, prefix);
  }
});
