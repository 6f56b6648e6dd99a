// Disaster 6: a task fails for good. The while-True script printed a traceback nobody read, or paged on every
// attempt. Here three payments fail the same way, each after its retries: every one is kept in PostgreSQL for
// review (`nightshift dead-letters list`), and the on-call person is paged once on Slack and once by email; the
// other two join that alert's group instead of paging again.
import { fileURLToPath } from 'node:url';
import { doomed } from '../fixtures/tasks.ts';
import { check, list, type Check, type Scenario } from '../scenario.ts';
import { withStack } from '../stack.ts';
import { eventually } from '@nightshift/test-helpers';

const APP = fileURLToPath(new URL('../fixtures/app.ts', import.meta.url));
const INVOICES = ['INV-1001', 'INV-1002', 'INV-1003'];
/** The grouping window: longer than the scenario, so every failure after the first is grouped into its alert. */
const ALERT_WINDOW = '10m';

interface ListedDeadLetter {
  readonly id: string;
  readonly messageId: string | null;
  readonly task: string | null;
  readonly reason: string;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
  readonly attempts: number | null;
  readonly status: string;
}

export interface FailFacts {
  readonly sent: readonly string[];
  /** What `nightshift dead-letters list --json` printed. */
  readonly listed: readonly ListedDeadLetter[];
  readonly failedAttempts: number;
  readonly slack: readonly string[];
  readonly emails: readonly { readonly to: readonly string[]; readonly subject: string }[];
  /** The alert group of (e2e.doomed, Error) in the store: dead letters counted, and outbox entries by kind. */
  readonly groupTotal: number | undefined;
  readonly outbox: readonly { readonly channel: string; readonly kind: string; readonly sent: boolean }[];
}

export const failsForGood: Scenario<FailFacts> = {
  name: 'fails-for-good',
  title: 'A task that fails for good is stored and paged once',
  disaster: `${INVOICES.length} payments fail the same way, each after 2 retries`,
  withoutNightshift: 'a traceback in a log nobody read, or a page for every attempt',
  run: ({ narrate, logFile }) => withStack({ app: APP, label: 'fail', env: { NIGHTSHIFT_ALERT_WINDOW: ALERT_WINDOW }, ...(logFile ? { logFile } : {}) }, async (stack) => {
    await stack.up();
    stack.log.note('disaster: tasks fail for good');
    const sent = await Promise.all(INVOICES.map((invoice) => stack.client.send(doomed, [invoice])));
    narrate(`${sent.length} "e2e.doomed" tasks sent (${list(INVOICES)}); each throws "payment provider answered 410 Gone", 3 attempts each`);
    await Promise.all(sent.map((id) => stack.events.outcome(id)));
    const failedAttempts = stack.events.of('task.failed', (e) => sent.includes(String(e.id))).length;

    // Stored: as the on-call person would look, with the command.
    const listed = await eventually('the dead letters to be listed', async () => {
      const { code, stdout } = await stack.nightshift(['dead-letters', 'list', '--json']);
      const rows = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as ListedDeadLetter).filter((r) => r.id !== undefined);
      return code === 0 && rows.length >= sent.length ? rows : undefined;
    }, 30_000, 250);
    narrate(`nightshift dead-letters list: ${listed.map((r) => `#${r.id} ${r.task} (${r.attempts} attempts, ${r.status})`).join('; ')}`);

    // Paged: once every outbox entry is sent, nothing more is coming within the window.
    const outbox = await eventually('the alert outbox to be sent', () => stack.withStore(async (store) => {
      const { rows } = await store.query<{ channel: string; kind: string; sent: boolean }>(`SELECT channel, kind, sent_at IS NOT NULL AS sent FROM ${store.table('alert_outbox')} ORDER BY id`);
      return rows.length > 0 && rows.every((r) => r.sent) ? rows : undefined;
    }), 30_000, 250);
    const groupTotal = await stack.withStore(async (store) => {
      const { rows } = await store.query<{ total: number }>(`SELECT total FROM ${store.table('alert_groups')} WHERE task = $1`, ['e2e.doomed']);
      return rows[0]?.total;
    });
    const emails = stack.smtp.mails.map((m) => ({ to: m.to, subject: /^Subject: (.*)$/m.exec(m.raw)?.[1]?.trim() ?? '' }));
    narrate(`Slack (a local server speaking the webhook contract) got ${stack.slack.messages.length} message${stack.slack.messages.length === 1 ? '' : 's'}: "${stack.slack.messages[0]?.text.split('\n')[0] ?? ''}"`);
    narrate(`email (an in-process SMTP server): ${emails.length} to ${list([...new Set(emails.flatMap((e) => e.to))])}: "${emails[0]?.subject ?? ''}"`);
    narrate(`the alert group counts ${groupTotal ?? 0} failures; the ${Math.max(0, (groupTotal ?? 0) - 1)} after the first wait for its summary when the ${ALERT_WINDOW} window closes`);

    const facts: FailFacts = { sent, listed, failedAttempts, slack: stack.slack.messages.map((m) => m.text), emails, groupTotal, outbox };
    return { facts, checks: judge(facts), logFile: stack.log.file };
  }),
};

function judge(facts: FailFacts): Check[] {
  const mine = facts.listed.filter((r) => r.messageId !== null && facts.sent.includes(r.messageId));
  const complete = mine.filter((r) => r.task === 'e2e.doomed' && r.reason === 'failed' && r.attempts === 3 && r.status === 'pending' && r.errorMessage?.includes('410 Gone'));
  const pages = (channel: string) => facts.outbox.filter((o) => o.channel === channel && o.kind === 'page').length;
  return [
    check('every final failure is stored in PostgreSQL, once, after its retries', facts.listed.length === facts.sent.length && complete.length === facts.sent.length && new Set(mine.map((r) => r.messageId)).size === facts.sent.length,
      `${complete.length} of ${facts.sent.length} listed by nightshift dead-letters list (task, reason failed, 3 attempts, pending), ${facts.listed.length} rows in all; ${facts.failedAttempts} failed attempts before`),
    check('paged exactly once on Slack', facts.slack.length === 1 && /e2e\.doomed/.test(facts.slack[0] ?? '') && pages('slack') === 1,
      `${facts.slack.length} Slack message(s) for ${facts.failedAttempts} failed attempts of ${facts.sent.length} tasks`),
    check('paged exactly once by email', facts.emails.length === 1 && facts.emails[0]?.to.includes('on-call@e2e.test') === true && pages('email') === 1,
      `${facts.emails.length} email(s), to ${facts.emails.flatMap((e) => e.to).join(', ') || 'nobody'}`),
    check('the other failures joined the alert\'s group instead of paging', facts.groupTotal === facts.sent.length,
      `the group of (e2e.doomed, Error) counts ${facts.groupTotal ?? 0} dead letters`),
  ];
}
