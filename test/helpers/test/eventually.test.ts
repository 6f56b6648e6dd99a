import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../src/eventually.ts';

test('eventually returns the first value that is neither undefined nor false', async () => {
  let reads = 0;
  const value = await eventually('the third read', () => (++reads === 3 ? { reads } : reads === 1 ? false : undefined), 1_000, 1);
  assert.deepEqual(value, { reads: 3 });
  assert.equal(await eventually('a true check', async () => true), true);
});

test('eventually gives up after the timeout, naming what it waited for', async () => {
  await assert.rejects(eventually('the pigs to fly', () => false, 60, 10), { message: 'timed out after 0.06 s waiting for the pigs to fly' });
});
