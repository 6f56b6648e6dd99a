// Disaster 2: beat crashes and is restarted. The while-True script kept its "last run" in memory, so a restart
// forgot it: runs were sent again or lost. Beat keeps its watermark in Redis: the new process waits for the
// dead one's lease to expire, continues where it stopped, sends the runs that came due meanwhile (this entry's
// policy is 'all') and none twice.
import { fileURLToPath } from 'node:url';
import { check, clock, seconds, type Check, type Scenario } from '../scenario.ts';
import { notSent, runsOf, sentTwice, type Rhythm } from '../schedule-runs.ts';
import { withStack } from '../stack.ts';
import { eventually } from '@nightshift/test-helpers';

const APP = fileURLToPath(new URL('../fixtures/every-second-app.ts', import.meta.url));
const ENTRY = 'every-second';
const RHYTHM: Rhythm = { everyMs: 1_000, anchorMs: 0 };
/** Beat is killed right after a run of the every-second entry was sent, if that is this early in the second. */
const KILL_BEFORE_MS = 400;
/** The other entry (misfire 'once'), which may fold runs but must not send one twice. */
const ONCE_ENTRY = 'every-2s-half';

export interface RestartFacts {
  readonly oldPid: number;
  readonly newPid: number;
  /** The newest fire time the old beat sent. */
  readonly lastSentBefore: number;
  /** Beat's watermark in Redis after the old beat stopped. */
  readonly watermarkAfterStop: number | undefined;
  /** The first fire time the new beat sent. */
  readonly firstSentAfter: number | undefined;
  /** Whether the new beat treated the entry as never seen (its state lost). */
  readonly startedFromScratch: boolean;
  /** Runs that came due while beat was away, and were sent by the new one. */
  readonly caughtUp: number;
  readonly runs: number;
  readonly sentTwice: readonly number[];
  readonly notSent: readonly number[];
  readonly sentTwiceOnce: readonly number[];
  /** Runs whose task did not succeed exactly once. */
  readonly notRunOnce: readonly string[];
}

export const restartKeepsSchedule: Scenario<RestartFacts> = {
  name: 'restart-keeps-schedule',
  title: 'A restart keeps the schedule state',
  disaster: 'the scheduler (beat) is killed (kill -9) in the middle of an every-second schedule',
  withoutNightshift: 'the last run lived in memory: a restart sent runs again or lost them',
  run: ({ narrate, logFile }) => withStack({ app: APP, label: 'restart', ...(logFile ? { logFile } : {}) }, async (stack) => {
    await stack.up();
    const oldPid = stack.pid('beat');
    await stack.waitForLeader(oldPid);
    await eventually('4 runs of the every-second entry', () => stack.events.of('beat.dispatched', (e) => e.entry === ENTRY).length >= 4, 20_000);
    narrate(`beat (pid ${oldPid}) sends "${ENTRY}" every second; ${runsOf(stack.events.events, ENTRY).length} runs so far`);

    // Killed between two fire times, just after a run was sent and well before .500, when the other entry fires: a
    // beat killed between claiming a run and publishing it loses that run by design (never twice), which is not
    // what this scenario is about.
    for (;;) {
      const sent = runsOf(stack.events.events, ENTRY).length;
      await eventually('the next run', () => runsOf(stack.events.events, ENTRY).length > sent, 10_000, 5);
      if (Date.now() % 1_000 < KILL_BEFORE_MS) break;
    }
    stack.log.note('disaster: kill -9 beat');
    const killedAt = Date.now();
    stack.kill('beat', 'SIGKILL');
    await stack.log.waitForSupervisor('beat', 'restarting', (e) => e.seq > (stack.log.supervisorEvents('beat', 'started').at(-1)?.seq ?? 0));
    const watermarks = await stack.beatWatermarks();
    const before = runsOf(stack.events.events, ENTRY).filter((r) => r.replica.endsWith(`:${oldPid}`));
    const lastSentBefore = before.at(-1)?.scheduledForMs ?? Number.NaN;
    narrate(`kill -9 beat at ${clock(killedAt)}; Redis keeps its watermark for "${ENTRY}": ${clock(watermarks[ENTRY] ?? Number.NaN)}`);

    const restart = await stack.waitForRestart('beat', oldPid);
    const leaderAt = await stack.waitForLeader(restart.pid);
    narrate(`the supervisor started beat again (pid ${restart.pid}); it took over once the dead beat's lease expired, ${seconds(leaderAt - killedAt)} after the kill`);
    await eventually('4 more runs after the restart', () => runsOf(stack.events.events, ENTRY).filter((r) => r.scheduledForMs > leaderAt).length >= 4, 20_000);

    const runs = runsOf(stack.events.events, ENTRY);
    const after = runs.filter((r) => r.replica.endsWith(`:${restart.pid}`));
    const caughtUp = after.filter((r) => r.scheduledForMs <= leaderAt);
    if (caughtUp.length > 0) {
      narrate(`${caughtUp.length} runs came due while beat was away (${caughtUp.map((r) => clock(r.scheduledForMs)).join(', ')}); the new beat sent each of them once, as soon as it led`);
    }
    const ids = runs.map((r) => r.id);
    await eventually('every run sent to have run', () => ids.every((id) => stack.events.of('task.succeeded', (e) => e.id === id).length > 0), 20_000);
    const notRunOnce = ids.filter((id) => stack.events.of('task.succeeded', (e) => e.id === id).length !== 1);
    narrate(`${runs.length} runs from ${clock(runs[0]?.scheduledForMs ?? 0)} to ${clock(runs.at(-1)?.scheduledForMs ?? 0)}; the worker ran each of them`);

    const facts: RestartFacts = {
      oldPid, newPid: restart.pid, lastSentBefore, watermarkAfterStop: watermarks[ENTRY],
      firstSentAfter: after[0]?.scheduledForMs,
      startedFromScratch: stack.log.lines('beat', 'entry not seen before: its runs start from now').some((l) => l.fields.pid === restart.pid),
      caughtUp: caughtUp.length, runs: runs.length,
      sentTwice: sentTwice(runs), notSent: notSent(runs, RHYTHM), sentTwiceOnce: sentTwice(runsOf(stack.events.events, ONCE_ENTRY)), notRunOnce,
    };
    return { facts, checks: judge(facts), logFile: stack.log.file };
  }),
};

function judge(facts: RestartFacts): Check[] {
  const continued = facts.firstSentAfter === facts.lastSentBefore + RHYTHM.everyMs;
  return [
    check('beat\'s schedule state survived the restart (in Redis)', facts.watermarkAfterStop === facts.lastSentBefore && !facts.startedFromScratch && continued,
      `watermark ${clock(facts.watermarkAfterStop ?? Number.NaN)} = last run sent before the stop ${clock(facts.lastSentBefore)}; ` +
      `the new beat went on with ${clock(facts.firstSentAfter ?? Number.NaN)}${facts.startedFromScratch ? ', but it started the entry from scratch' : ''}`),
    check('no run was sent twice', facts.sentTwice.length === 0 && facts.sentTwiceOnce.length === 0 && facts.notRunOnce.length === 0,
      `${facts.runs} runs, ${facts.sentTwice.length + facts.sentTwiceOnce.length} sent twice, ${facts.notRunOnce.length} not run exactly once`),
    check('no run was lost', facts.notSent.length === 0 && facts.caughtUp > 0,
      `every second from the first run to the last was sent (${facts.notSent.length} missing), including ${facts.caughtUp} that came due during the restart`),
  ];
}
