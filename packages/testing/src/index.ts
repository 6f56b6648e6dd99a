export { createTestbed, type Testbed, type TestbedOptions, type WorkerStartOptions } from './testbed.ts';
export { OutcomeTracker, type RetriedOutcome, type TaskOutcome } from './outcomes.ts';
export { ScheduleClock, type ScheduledRun } from './schedule-clock.ts';
export { requireServices, randomPrefix } from '@nightshift/test-servers';
