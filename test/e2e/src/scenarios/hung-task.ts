// Disaster 5: a task hangs. In the while-True script one stuck call stopped everything behind it, forever.
// Here the task spins in `for (;;) {}` and ignores its signal; at its hard time limit the worker terminates its
// sandbox thread (the worker process itself goes on), another task runs meanwhile, and the hung run is retried
// once and then dead-lettered, as its retry policy says.
import { fileURLToPath } from 'node:url';
import { hang, work } from '../fixtures/tasks.ts';
import { total } from '../metrics-text.ts';
import { check, seconds, type Check, type Scenario } from '../scenario.ts';
import { withStack } from '../stack.ts';

const APP = fileURLToPath(new URL('../fixtures/app.ts', import.meta.url));
const HARD_LIMIT_MS = 2_000;

export interface HangFacts {
  readonly concurrency: number;
  /** Each attempt of the hung task: how it ended and after how long. */
  readonly attempts: readonly { readonly attempt: number; readonly error: string; readonly message: string; readonly runtimeMs: number }[];
  readonly retried: number;
  readonly deadLettered: boolean;
  readonly deadLetterError: string | undefined;
  /** The other task: whether it succeeded before the hung one's first attempt was killed. */
  readonly otherSucceeded: boolean;
  readonly otherFinishedWhileHung: boolean;
  readonly otherRuntimeMs: number | undefined;
  /** The worker process: the same before and after (only the sandbox thread was replaced). */
  readonly workerPidBefore: number;
  readonly workerPidAfter: number;
  /** `nightshift_time_limit_hits_total{kind="hard"}` of the worker. */
  readonly hardLimitHits: number;
}

export const hungTask: Scenario<HangFacts> = {
  name: 'hung-task',
  title: 'A hung task is killed at its hard limit',
  disaster: 'a task spins in for (;;) {} and ignores its abort signal',
  withoutNightshift: 'one stuck call stopped the loop, and every task behind it, for good',
  run: ({ narrate, logFile }) => withStack({ app: APP, label: 'hang', ...(logFile ? { logFile } : {}) }, async (stack) => {
    await stack.up();
    const workerPidBefore = stack.pid('worker');
    const online = await stack.events.waitFor('worker.online', (e) => e.pid === workerPidBefore, 'the worker to be online');
    const concurrency = Number(online.concurrency);

    stack.log.note('disaster: a task hangs');
    const hungId = await stack.client.send(hang, []);
    await stack.events.waitFor('task.started', (e) => e.id === hungId, 'the hung task to start');
    narrate(`"e2e.hang" started: for (;;) {}, soft limit 1 s (it ignores ctx.signal), hard limit ${seconds(HARD_LIMIT_MS)}, 1 retry`);
    const otherId = await stack.client.send(work, ['an invoice to send', 200]);
    const other = await stack.events.outcome(otherId, 20_000);
    narrate(`meanwhile "e2e.work" ${other.type === 'task.succeeded' ? `ran and succeeded in ${Math.round(Number(other.runtimeMs))} ms` : 'did not succeed'} on another sandbox (the worker runs ${concurrency})`);

    const final = await stack.events.outcome(hungId, 30_000);
    const failures = stack.events.of('task.failed', (e) => e.id === hungId);
    const attempts = failures.map((e) => {
      const error = e.error as { name?: string; message?: string } | undefined;
      return { attempt: Number(e.attempt), error: String(error?.name), message: String(error?.message), runtimeMs: Number(e.runtimeMs) };
    });
    for (const a of attempts) narrate(`attempt ${a.attempt}: ${a.error} after ${seconds(a.runtimeMs)} — "${a.message}"`);
    const firstKill = failures[0] ? Date.parse(failures[0].at) : Number.POSITIVE_INFINITY;
    const deadLetterError = (final.error as { name?: string } | undefined)?.name;
    narrate(final.type === 'task.dead-lettered' ? `after its one retry the hung task was dead-lettered (${final.detail})` : `the hung task ended as ${final.type}`);
    const hardLimitHits = total(await stack.metrics('worker') ?? '', 'nightshift_time_limit_hits_total', { kind: 'hard' });

    const facts: HangFacts = {
      concurrency, attempts, retried: stack.events.of('task.retried', (e) => e.id === hungId).length,
      deadLettered: final.type === 'task.dead-lettered', deadLetterError,
      otherSucceeded: other.type === 'task.succeeded', otherFinishedWhileHung: Date.parse(other.at) < firstKill,
      otherRuntimeMs: other.type === 'task.succeeded' ? Number(other.runtimeMs) : undefined,
      workerPidBefore, workerPidAfter: stack.pid('worker'), hardLimitHits,
    };
    return { facts, checks: judge(facts), logFile: stack.log.file };
  }),
};

function judge(facts: HangFacts): Check[] {
  const killed = facts.attempts.filter((a) => a.error === 'TimeLimitExceeded' && a.message.includes(`${HARD_LIMIT_MS}ms`) && a.runtimeMs >= HARD_LIMIT_MS);
  return [
    check('the hung task was killed at its hard time limit, each attempt', facts.attempts.length === 2 && killed.length === 2 && facts.hardLimitHits === 2,
      `${killed.length} of ${facts.attempts.length} attempts ended by TimeLimitExceeded (${facts.attempts.map((a) => seconds(a.runtimeMs)).join(', ')}); the worker counted ${facts.hardLimitHits} hard-limit kills`),
    check('the worker itself kept running (only the sandbox thread was replaced)', facts.workerPidAfter === facts.workerPidBefore,
      `worker pid ${facts.workerPidBefore} before, ${facts.workerPidAfter} after`),
    check('another task still completed while it hung', facts.otherSucceeded && facts.otherFinishedWhileHung,
      facts.otherSucceeded ? `succeeded in ${Math.round(facts.otherRuntimeMs ?? 0)} ms, ${facts.otherFinishedWhileHung ? 'before' : 'only after'} the hung task was first killed (${facts.concurrency} sandboxes)` : 'it did not succeed'),
    check('the hung run was retried once, then dead-lettered (its policy: 1 retry)', facts.retried === 1 && facts.deadLettered && facts.deadLetterError === 'TimeLimitExceeded',
      `${facts.retried} retry, ${facts.deadLettered ? `dead-lettered with ${facts.deadLetterError}` : 'not dead-lettered'}`),
  ];
}
