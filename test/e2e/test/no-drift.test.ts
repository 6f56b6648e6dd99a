import { test } from 'node:test';
import { noDrift } from '../src/scenarios/no-drift.ts';
import { assertChecks, narrateTo } from './assert-checks.ts';

test('no drift: every run of an every-second schedule is on its boundary, one per period, none missing', { timeout: 120_000 }, async (t) => {
  assertChecks(await noDrift.run({ narrate: narrateTo(t) }));
});
