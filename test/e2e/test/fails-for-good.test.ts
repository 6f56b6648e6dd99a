import { test } from 'node:test';
import { failsForGood } from '../src/scenarios/fails-for-good.ts';
import { assertChecks, narrateTo } from './assert-checks.ts';

test('a task that fails for good is stored in PostgreSQL and paged exactly once on Slack and by email', { timeout: 120_000 }, async (t) => {
  assertChecks(await failsForGood.run({ narrate: narrateTo(t) }));
});
