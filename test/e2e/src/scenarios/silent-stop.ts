// Disaster 7: a job stops running and nobody notices. Nothing crashes: at 2:47 AM a change routes the nightly
// report to a new queue that no worker consumes. Beat sends every run on time, no task fails, no dead letter
// is written, no log line says anything is wrong; the runs just wait in a queue nobody reads, and the report is
// missed until someone asks for it on Monday. The alerter's dead man's switch knows when the next success was
// due: past it (plus the entry's tolerance) it pages once, naming the likely cause, and once more when the report
// succeeds again.
import { fileURLToPath } from 'node:url';
import { check, seconds, type Check, type Scenario } from '../scenario.ts';
import { withStack } from '../stack.ts';
import { eventually } from '@nightshift/test-helpers';

const APP = fileURLToPath(new URL('../fixtures/silent-stop-app.ts', import.meta.url));
const ENTRY = 'nightly-report';
const TOLERANCE = '3s';

export interface SilentStopFacts {
  readonly successesBefore: number;
  /** Slack's messages about the entry, in order. */
  readonly messages: readonly string[];
  /** From the change that silenced it to the page, and from the due time the page names to the page. */
  readonly pagedAfterChangeMs: number | undefined;
  readonly pagedAfterDueMs: number | undefined;
  /** What /health/background said while it was overdue, and after the recovery. */
  readonly backgroundWhileOverdue: { readonly status: string; readonly reasons: readonly string[] } | undefined;
  readonly backgroundAfter: { readonly status: string; readonly reasons: readonly string[] } | undefined;
  /** Dead letters stored during the scenario: none, the runs never failed. */
  readonly deadLetters: number;
  readonly runsWaiting: number | undefined;
}

export const silentStop: Scenario<SilentStopFacts> = {
  name: 'silent-stop',
  title: 'A job that stopped running is noticed',
  disaster: 'a change routes the nightly report to a queue no worker consumes: no crash, no error, no dead letter',
  withoutNightshift: 'nobody noticed until Monday, when the report was missing: the scheduler had died at 2:47 AM without a word',
  run: ({ narrate, logFile }) => withStack({ app: APP, label: 'silent', env: { NIGHTSHIFT_SCHEDULE_WATCH_INTERVAL: '500ms', NIGHTSHIFT_ALERT_WINDOW: '10m' }, ...(logFile ? { logFile } : {}) }, async (stack) => {
    await stack.up();
    const nightshift = async (args: string[]) => {
      const { code, stdout, stderr } = await stack.nightshift(['schedule', ...args, '--app', APP]);
      if (code !== 0) throw new Error(`nightshift schedule ${args.join(' ')} exited ${code}: ${stderr || stdout}`);
    };
    await nightshift(['create', '--name', ENTRY, '--task', 'e2e.report', '--every', '2s', '--alert', JSON.stringify({ overdueAfter: TOLERANCE }), '--note', 'the finance team\'s nightly report']);
    narrate(`nightshift schedule create ${ENTRY}: e2e.report every 2 s (standing in for 02:00 every night), paged if no success by its due time plus ${TOLERANCE}`);
    const succeeded = () => stack.events.of('task.succeeded', (e) => (e.origin as { beat?: string } | undefined)?.beat === ENTRY).length;
    await eventually('two reports to succeed', () => (succeeded() >= 2 ? true : undefined), 30_000, 100);
    const successesBefore = succeeded();
    narrate(`${successesBefore} reports ran and succeeded on the queue "reports"`);

    stack.log.note('disaster: the report is routed to a queue nobody consumes');
    await nightshift(['update', ENTRY, '--queue', 'reports-v2', '--note', 'moved to the new reports queue']);
    const changedAt = Date.now();
    narrate('2:47 AM: nightshift schedule update --queue reports-v2. No worker consumes reports-v2; beat keeps sending on time, nothing fails, nothing is logged as wrong');
    const mine = () => stack.slack.messages.filter((m) => m.text.startsWith(`schedule ${ENTRY} `));
    const page = await eventually('the overdue page', () => mine()[0], 30_000, 100);
    const pagedAt = Date.now();
    const dueBy = Date.parse(/Expected by\*\\n([0-9TZ:.-]+)/.exec(page.raw)?.[1] ?? '');
    narrate(`Slack, ${seconds(pagedAt - changedAt)} after the change: "${page.text}"`);
    const background = async () => {
      const response = await fetch(`http://127.0.0.1:${stack.env.NIGHTSHIFT_HTTP_PORT}/health/background`);
      return (await response.json()) as { status: string; reasons: string[] };
    };
    const backgroundWhileOverdue = await eventually('/health/background to say so', async () => {
      const body = await background();
      return body.reasons.some((r) => r.startsWith(`schedule ${ENTRY} is overdue`)) ? body : undefined;
    }, 15_000, 200).catch(() => undefined);
    narrate(`/health/background: ${backgroundWhileOverdue?.status ?? 'unknown'}: ${backgroundWhileOverdue?.reasons.find((r) => r.startsWith('schedule')) ?? ''}`);
    const runsWaiting = await stack.client.broker.withChannel((channel) => channel.checkQueue(stack.client.broker.names.queue('reports-v2'))).then((q) => q.messageCount, () => undefined);

    stack.log.note('the fix: the report goes back to its queue');
    await nightshift(['update', ENTRY, '--queue', 'none', '--note', 'back on the reports queue']);
    narrate(`the fix: nightshift schedule update --queue none (the task's queue again); ${runsWaiting ?? 'some'} runs still wait in reports-v2 for whoever wants them`);
    const recovery = await eventually('the recovery', () => mine()[1], 30_000, 100);
    narrate(`Slack: "${recovery.text}"`);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // a few rounds more: nothing else is said
    const backgroundAfter = await eventually('/health/background without it', async () => {
      const body = await background();
      return body.reasons.some((r) => r.startsWith(`schedule ${ENTRY}`)) ? undefined : body;
    }, 15_000, 200).catch(() => undefined);
    const deadLetters = await stack.withStore(async (store) => Number((await store.query<{ n: string }>(`SELECT count(*) AS n FROM ${store.table('dead_letters')}`)).rows[0]?.n ?? 0));
    const facts: SilentStopFacts = {
      successesBefore, messages: mine().map((m) => m.text), pagedAfterChangeMs: pagedAt - changedAt,
      pagedAfterDueMs: Number.isFinite(dueBy) ? pagedAt - dueBy : undefined, backgroundWhileOverdue, backgroundAfter, deadLetters, runsWaiting,
    };
    return { facts, checks: judge(facts), logFile: stack.log.file };
  }),
};

function judge(facts: SilentStopFacts): Check[] {
  const [page, recovery] = facts.messages;
  return [
    check('the silence is noticed: one page, naming the queue nobody consumes', /^schedule nightly-report is overdue: no worker consuming the queue "reports-v2"/.test(page ?? ''),
      `first message: "${page ?? 'none'}"`),
    check('within the tolerance plus 5 s of when a success was due', facts.pagedAfterDueMs !== undefined && facts.pagedAfterDueMs <= 5_000,
      `paged ${facts.pagedAfterDueMs === undefined ? '(no due time in the page)' : seconds(facts.pagedAfterDueMs)} after the due time, ${seconds(facts.pagedAfterChangeMs ?? 0)} after the change`),
    check('one recovery message when it succeeds again, and nothing else', facts.messages.length === 2 && /^schedule nightly-report recovered/.test(recovery ?? ''),
      `${facts.messages.length} message(s): ${facts.messages.join(' | ')}`),
    check('/health/background is degraded while it is overdue, and not for it after', facts.backgroundWhileOverdue?.status === 'degraded' && facts.backgroundAfter !== undefined,
      `while overdue: ${facts.backgroundWhileOverdue?.status ?? 'not seen'}; after: ${facts.backgroundAfter?.status ?? 'still naming it'}`),
    check('nothing failed: no dead letter, the runs only waited', facts.deadLetters === 0 && (facts.runsWaiting ?? 0) > 0,
      `${facts.deadLetters} dead letters; ${facts.runsWaiting ?? 'unknown'} runs waiting in reports-v2`),
  ];
}
