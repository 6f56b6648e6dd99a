import { test } from 'node:test';
import { hungTask } from '../src/scenarios/hung-task.ts';
import { assertChecks, narrateTo } from './assert-checks.ts';

test('a hung task is killed at its hard limit while another task completes, then retried and dead-lettered', { timeout: 120_000 }, async (t) => {
  assertChecks(await hungTask.run({ narrate: narrateTo(t) }));
});
