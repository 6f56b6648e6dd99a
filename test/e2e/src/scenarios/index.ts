// The disasters of the lecture's while-True scheduler, in the order the demo tells them.
import type { Scenario } from '../scenario.ts';
import { crashedService } from './crashed-service.ts';
import { failsForGood } from './fails-for-good.ts';
import { hungTask } from './hung-task.ts';
import { noDrift } from './no-drift.ts';
import { redeploy } from './redeploy.ts';
import { restartKeepsSchedule } from './restart-keeps-schedule.ts';
import { silentStop } from './silent-stop.ts';

export { crashedService, failsForGood, hungTask, noDrift, redeploy, restartKeepsSchedule, silentStop };

export const SCENARIOS: readonly Scenario[] = Object.freeze([
  crashedService, restartKeepsSchedule, noDrift, redeploy, hungTask, failsForGood, silentStop,
] as Scenario[]);
