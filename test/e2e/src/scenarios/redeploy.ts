// Disaster 4: a redeploy. The while-True script, started again after a long stop, either fired every entry at
// once or replayed every missed period. Here the whole stack is stopped for many periods of three entries and
// started again: each entry catches up as its misfire policy says — 'once' sends one run for all it missed,
// 'all' (cap 3) the newest three, 'skip' none older than its 1 s grace — and then keeps its rhythm.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { samples } from '../metrics-text.ts';
import { check, clock, list, seconds, type Check, type Scenario } from '../scenario.ts';
import { boundaries, notSent, runsOf, sentTwice, type DispatchedRun, type Rhythm } from '../schedule-runs.ts';
import { withStack } from '../stack.ts';
import { eventually } from '@nightshift/test-helpers';

const APP = fileURLToPath(new URL('../fixtures/redeploy-app.ts', import.meta.url));
const DOWNTIME_MS = 10_000;

type Policy = 'once' | 'all' | 'skip';
interface EntrySpec extends Rhythm {
  readonly policy: Policy;
  /** Of the runs due at the restart, how many the policy sends at most. */
  readonly sends: number;
}
const ENTRIES: Readonly<Record<string, EntrySpec>> = {
  'once-every-1s': { everyMs: 1_000, anchorMs: 0, policy: 'once', sends: 1 },
  'all-every-2s': { everyMs: 2_000, anchorMs: 0, policy: 'all', sends: 3 },
  'skip-every-3s': { everyMs: 3_000, anchorMs: 0, policy: 'skip', sends: 1 },
};

export interface EntryCatchUp {
  readonly entry: string;
  readonly policy: Policy;
  /** Its first run after the first deploy, and when that deploy's beat began to lead. */
  readonly firstRun: number;
  readonly firstLeaderAt: number;
  readonly lastBefore: number;
  /** When the new beat planned this entry's catch-up. */
  readonly plannedAt: number;
  /** Fire times that came due while the stack was down, up to that plan. */
  readonly due: number;
  /** The runs sent after the redeploy for fire times that came due while it was down. */
  readonly caughtUp: readonly DispatchedRun[];
  /** Whether the runs caught up are among the newest due (as many as the policy sends), not the oldest. */
  readonly newest: boolean;
  /** After the catch-up: fire times skipped or sent twice (none, if the rhythm went on). */
  readonly gapsAfter: readonly number[];
  readonly twice: readonly number[];
  readonly notRun: readonly string[];
}

export interface RedeployFacts {
  readonly downMs: number;
  readonly leaderAt: number;
  readonly entries: readonly EntryCatchUp[];
  /** `nightshift_beat_runs_missed_total` of the new beat, by entry and reason. */
  readonly missedMetric: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export const redeploy: Scenario<RedeployFacts> = {
  name: 'redeploy',
  title: 'A redeploy does not fire everything',
  disaster: `the whole stack is stopped for ${seconds(DOWNTIME_MS)}, several periods of each of three schedule entries, and started again`,
  withoutNightshift: 'after a restart every job fired at once, or every missed period was replayed',
  run: ({ narrate, logFile }) => withStack({ app: APP, label: 'redeploy', ...(logFile ? { logFile } : {}) }, async (stack) => {
    await stack.up();
    const firstLeaderAt = await stack.waitForLeader(stack.pid('beat'));
    narrate(`first deploy: ${list(Object.entries(ENTRIES).map(([name, e]) => `"${name}" (every ${e.everyMs / 1000} s, misfire '${e.policy}')`))}`);
    await eventually('2 runs of every entry', () => Object.keys(ENTRIES).every((entry) => runsOf(stack.events.events, entry).length >= 2), 20_000);

    stack.log.note('disaster: stop the whole stack, start it again later');
    await stack.down();
    const stoppedAt = Date.now();
    const lastBefore = Object.fromEntries(Object.keys(ENTRIES).map((entry) => [entry, runsOf(stack.events.events, entry).at(-1)?.scheduledForMs ?? Number.NaN]));
    narrate(`nightshift up stopped (Ctrl-C); nothing runs for ${seconds(DOWNTIME_MS)}`);
    await sleep(DOWNTIME_MS);
    await stack.up();
    const leaderAt = await stack.waitForLeader(stack.pid('beat'));
    narrate(`nightshift up started again; beat leads ${seconds(leaderAt - stoppedAt)} after the stop`);
    // One run on time after the catch-up, for every entry: the rhythm goes on.
    await eventually('a run on time of every entry after the redeploy', () => Object.entries(ENTRIES).every(([entry, spec]) =>
      runsOf(stack.events.events, entry).some((r) => r.scheduledForMs > leaderAt + spec.everyMs)), 20_000, 100);

    const entries: EntryCatchUp[] = [];
    for (const [entry, spec] of Object.entries(ENTRIES)) {
      const runs = runsOf(stack.events.events, entry);
      const before = lastBefore[entry] as number;
      const after = runs.filter((r) => r.scheduledForMs > before);
      // When the new beat looked at what this entry missed: its log line about it (the runs due then are the
      // ones the policy chose from), else when it began to lead.
      const planned = stack.log.lines('beat', /runs came due while this entry was not dispatched/).find((l) => l.fields.entry === entry && l.fields.pid === stack.pid('beat'));
      const plannedAt = planned?.time ?? leaderAt;
      const dueTimes = boundaries(spec, before + 1, plannedAt);
      const caughtUp = after.filter((r) => r.scheduledForMs <= plannedAt);
      await eventually(`the runs of ${entry} sent after the redeploy to have run`, () => after.every((r) => stack.events.of('task.succeeded', (e) => e.id === r.id).length > 0), 20_000);
      const facts: EntryCatchUp = {
        entry, policy: spec.policy, firstRun: runs[0]?.scheduledForMs ?? Number.NaN, firstLeaderAt, lastBefore: before, plannedAt,
        due: dueTimes.length, caughtUp,
        newest: caughtUp.every((r) => dueTimes.slice(-spec.sends).includes(r.scheduledForMs)),
        gapsAfter: notSent(after, spec, after[0]?.scheduledForMs),
        twice: sentTwice(runs),
        notRun: after.filter((r) => stack.events.of('task.succeeded', (e) => e.id === r.id).length !== 1).map((r) => r.id),
      };
      entries.push(facts);
      narrate(`"${entry}" ('${spec.policy}'): ${facts.due} runs came due while it was down; beat sent ${caughtUp.length}` +
        `${caughtUp.length > 0 ? ` (${caughtUp.map((r) => clock(r.scheduledForMs)).join(', ')})` : ''}, then went on on time`);
    }
    const missedMetric = parseMissed(await stack.metrics('beat') ?? '');
    return { facts: { downMs: leaderAt - stoppedAt, leaderAt, entries, missedMetric }, checks: judge({ downMs: leaderAt - stoppedAt, leaderAt, entries, missedMetric }), logFile: stack.log.file };
  }),
};

/** The reasons of `nightshift_beat_runs_missed_total`, as the narration says them. */
const MISSED_IN_WORDS: Readonly<Record<string, string>> = {
  coalesced: 'folded into the catch-up run', skipped: 'skipped', expired: 'too late to send', 'over-cap': 'beyond the catch-up cap',
};

/** `nightshift_beat_runs_missed_total` → { entry: { reason: count } }. */
function parseMissed(metrics: string): Record<string, Record<string, number>> {
  const missed: Record<string, Record<string, number>> = {};
  for (const { labels, value } of samples(metrics, 'nightshift_beat_runs_missed_total')) {
    const entry = labels.entry ?? '?';
    missed[entry] = { ...missed[entry], [labels.reason ?? '?']: value };
  }
  return missed;
}

function judge(facts: RedeployFacts): Check[] {
  const firstDeploy = facts.entries.every((e) => e.firstRun > e.firstLeaderAt);
  return [
    check('the first deploy fired nothing from the past', firstDeploy,
      facts.entries.map((e) => `"${e.entry}" first ran for ${clock(e.firstRun)}, after beat began at ${clock(e.firstLeaderAt)}`).join('; ')),
    ...facts.entries.map((e) => {
      const spec = ENTRIES[e.entry] as EntrySpec;
      const wanted = e.policy === 'skip' ? e.caughtUp.length <= 1 : e.caughtUp.length === spec.sends;
      const missed = Object.entries(facts.missedMetric[e.entry] ?? {}).map(([reason, n]) => `${n} ${MISSED_IN_WORDS[reason] ?? reason}`).join(', ');
      return check(`"${e.entry}" ('${e.policy}') caught up ${e.policy === 'all' ? `its newest ${spec.sends}` : 'at most once'}, not once per missed period`,
        e.due >= spec.sends + 2 && wanted && e.newest && e.gapsAfter.length === 0 && e.twice.length === 0 && e.notRun.length === 0,
        `${e.due} came due while down, ${e.caughtUp.length} sent${missed ? ` (beat counted ${missed})` : ''}; afterwards ${e.gapsAfter.length} gaps, ${e.twice.length} sent twice`);
    }),
  ];
}
