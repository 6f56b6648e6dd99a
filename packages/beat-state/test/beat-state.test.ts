import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beatKeys, leaseHolder, leaseToken, runId } from '@nightshift/beat-state';

test('every key lives under the prefix, and the scan pattern covers them all', () => {
  const keys = beatKeys('acme');
  const claim = keys.run('nightly', Date.parse('2027-03-28T01:30:00Z'));
  assert.equal(claim, 'acme:beat:run:nightly:2027-03-28T01:30:00.000Z');
  for (const key of [keys.lease, keys.leaseReleased, keys.lastRun, claim]) assert.ok(key.startsWith('acme:beat:'), key);
  assert.equal(keys.pattern, 'acme:beat:*');
  assert.ok(Object.isFrozen(keys));
});

test('a lease token names its replica, even a replica whose name holds a #, and differs on every take', () => {
  for (const replica of ['beat@host-1:42', 'beat#2@host']) {
    const first = leaseToken(replica);
    assert.equal(leaseHolder(first), replica);
    assert.notEqual(leaseToken(replica), first);
  }
});

test('a run id is the same for the same entry and fire time', () => {
  assert.equal(runId('tick', Date.parse('2026-01-01T00:00:00Z')), 'beat:tick:2026-01-01T00:00:00.000Z');
});
