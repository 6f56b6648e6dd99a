import { test } from 'node:test';
import { redeploy } from '../src/scenarios/redeploy.ts';
import { assertChecks, narrateTo } from './assert-checks.ts';

test('a redeploy does not fire everything: each entry catches up once, or as its misfire policy says', { timeout: 120_000 }, async (t) => {
  assertChecks(await redeploy.run({ narrate: narrateTo(t) }));
});
