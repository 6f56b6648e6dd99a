import { test } from 'node:test';
import { restartKeepsSchedule } from '../src/scenarios/restart-keeps-schedule.ts';
import { assertChecks, narrateTo } from './assert-checks.ts';

test('a beat restart keeps the schedule state: the watermark is in Redis, no run is sent twice, none is lost', { timeout: 120_000 }, async (t) => {
  assertChecks(await restartKeepsSchedule.run({ narrate: narrateTo(t) }));
});
