import { test } from 'node:test';
import { silentStop } from '../src/scenarios/silent-stop.ts';
import { assertChecks, narrateTo } from './assert-checks.ts';

test('a job routed to a queue nobody consumes is paged once, naming the cause, and its recovery once', { timeout: 120_000 }, async (t) => {
  assertChecks(await silentStop.run({ narrate: narrateTo(t) }));
});
