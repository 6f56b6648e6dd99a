// Disaster 3: drift. The while-True script slept a fixed time after each run, so every run's own duration
// pushed the next one later, and after a night "every second" meant every 1.003 s. Beat computes each fire
// time from the schedule alone: every run is on its boundary, one after the other, none missing. What is
// checked is the fire time each run was sent for, never how fast the machine was; the lag is only reported.
import { fileURLToPath } from 'node:url';
import { check, clock, type Check, type Scenario } from '../scenario.ts';
import { medianAndMax, notSent, onBoundary, runsOf, sentTwice, type Rhythm } from '../schedule-runs.ts';
import { withStack } from '../stack.ts';
import { eventually } from '@nightshift/test-helpers';

const APP = fileURLToPath(new URL('../fixtures/every-second-app.ts', import.meta.url));
/** The two entries of the app and where their boundaries are. */
const ENTRIES: Readonly<Record<string, Rhythm & { readonly words: string }>> = {
  'every-second': { everyMs: 1_000, anchorMs: 0, words: 'every whole second' },
  'every-2s-half': { everyMs: 2_000, anchorMs: Date.parse('2026-01-01T00:00:00.500Z'), words: 'every 2 s at .500' },
};
const RUNS_WATCHED = 16;

export interface EntryRhythm {
  readonly entry: string;
  readonly runs: number;
  readonly first: number;
  readonly last: number;
  readonly offBoundary: readonly number[];
  readonly notSent: readonly number[];
  readonly sentTwice: readonly number[];
  /** Runs whose task got another fire time than the run's (or did not run). */
  readonly wrongTime: readonly string[];
  readonly lag: { readonly median: number; readonly max: number };
}

export interface DriftFacts {
  readonly entries: readonly EntryRhythm[];
}

export const noDrift: Scenario<DriftFacts> = {
  name: 'no-drift',
  title: 'No drift',
  disaster: `an every-second schedule is watched for ${RUNS_WATCHED} runs`,
  withoutNightshift: 'it slept a fixed time after each run, so every run pushed the next one later and the schedule crept',
  run: ({ narrate, logFile }) => withStack({ app: APP, label: 'drift', ...(logFile ? { logFile } : {}) }, async (stack) => {
    await stack.up();
    await stack.waitForLeader(stack.pid('beat'));
    narrate(`beat sends "every-second" (${ENTRIES['every-second']?.words}) and "every-2s-half" (${ENTRIES['every-2s-half']?.words}); watching ${RUNS_WATCHED} runs`);
    await eventually(`${RUNS_WATCHED} runs`, () => runsOf(stack.events.events, 'every-second').length >= RUNS_WATCHED, RUNS_WATCHED * 1_000 + 20_000, 200);

    const entries: EntryRhythm[] = [];
    for (const [entry, rhythm] of Object.entries(ENTRIES)) {
      const runs = runsOf(stack.events.events, entry);
      await eventually(`the runs of ${entry} to have run`, () => runs.every((r) => stack.events.of('task.succeeded', (e) => e.id === r.id).length > 0), 20_000);
      const wrongTime = runs.filter((r) => {
        const done = stack.events.of('task.succeeded', (e) => e.id === r.id);
        return done.length !== 1 || done[0]?.result !== new Date(r.scheduledForMs).toISOString();
      }).map((r) => r.id);
      const facts: EntryRhythm = {
        entry, runs: runs.length, first: runs[0]?.scheduledForMs ?? Number.NaN, last: runs.at(-1)?.scheduledForMs ?? Number.NaN,
        offBoundary: runs.filter((r) => !onBoundary(r.scheduledForMs, rhythm)).map((r) => r.scheduledForMs),
        notSent: notSent(runs, rhythm), sentTwice: sentTwice(runs), wrongTime,
        lag: medianAndMax(runs.map((r) => r.lagMs)),
      };
      entries.push(facts);
      narrate(`${entry}: ${facts.runs} runs, ${clock(facts.first)} … ${clock(facts.last)} UTC; sent a median ${facts.lag.median} ms after the fire time (at most ${facts.lag.max} ms), and the next one was never pushed back`);
    }
    return { facts: { entries }, checks: judge({ entries }), logFile: stack.log.file };
  }),
};

function judge(facts: DriftFacts): Check[] {
  return facts.entries.flatMap((e) => {
    const rhythm = ENTRIES[e.entry] as Rhythm & { words: string };
    const span = (e.last - e.first) / rhythm.everyMs;
    return [
      check(`"${e.entry}": every run on its boundary (${rhythm.words})`, e.offBoundary.length === 0 && e.runs > 0,
        `${e.runs - e.offBoundary.length} of ${e.runs} fire times on the boundary`),
      check(`"${e.entry}": one run per period, none missing, none twice, no drift`, e.notSent.length === 0 && e.sentTwice.length === 0 && span === e.runs - 1 && e.runs >= (e.entry === 'every-second' ? RUNS_WATCHED : RUNS_WATCHED / 2 - 1),
        `${e.runs} runs over ${span} periods (${clock(e.first)} → ${clock(e.last)}), ${e.notSent.length} missing, ${e.sentTwice.length} twice`),
      check(`"${e.entry}": each task ran once, for its own fire time`, e.wrongTime.length === 0,
        `${e.runs - e.wrongTime.length} of ${e.runs} ran once with the fire time they were sent for`),
    ];
  });
}
