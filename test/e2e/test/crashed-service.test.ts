import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashedService } from '../src/scenarios/crashed-service.ts';
import { assertChecks, narrateTo } from './assert-checks.ts';

test('a crashed worker comes back: the supervisor restarts it, work sent meanwhile runs, Prometheus shows the outage', { timeout: 90_000 }, async (t) => {
  const result = await crashedService.run({ narrate: narrateTo(t) });
  assertChecks(result);
  assert.equal(result.facts.completed, result.facts.sentDuringOutage);
  assert.ok(result.facts.prometheus.downScrapes.length >= 1);
});
