import type { Alert, PageAlert, SummaryAlert } from './alert.ts';
import { scheduleLines, scheduleTitle, type ScheduleAlert } from './schedule-alert.ts';

/** One line saying what happened: the subject of an email, the headline of a Slack message. */
export function alertTitle(alert: Alert): string {
  if (alert.kind === 'schedule') return scheduleTitle(alert);
  if (alert.kind === 'summary') return `…and ${alert.count} more: ${alert.task} failed with ${alert.errorClass}`;
  return `${alert.task} failed for good: ${alert.error.class}`;
}

/** The body as plain text lines (email, log). */
export function alertText(alert: Alert): string {
  return (alert.kind === 'page' ? pageLines(alert) : alert.kind === 'schedule' ? scheduleLines(alert) : summaryLines(alert)).join('\n');
}

function pageLines(alert: PageAlert): string[] {
  return [
    `${alert.task} was dead-lettered (${alert.reason}) after ${attempts(alert.attempts)}.`,
    '',
    `Error:     ${alert.error.class}${alert.error.code ? ` [${alert.error.code}]` : ''}: ${alert.error.message}`,
    `Args:      ${alert.args}`,
    `Kwargs:    ${alert.kwargs}`,
    `Queue:     ${alert.queue ?? '-'}`,
    `Worker:    ${alert.worker ?? '-'}`,
    `Failed:    ${alert.firstFailedAt ?? alert.lastFailedAt} … ${alert.lastFailedAt}`,
    `Dead letter: #${alert.deadLetterId}${alert.links.dashboard ? ` ${alert.links.dashboard}` : ''}`,
    ...(alert.traceId ? [`Trace:     ${alert.links.trace ?? alert.traceId}`] : []),
    ...(alert.error.stack ? ['', alert.error.stack] : []),
    '',
    `Requeue it once fixed: nightshift dead-letters requeue ${alert.deadLetterId}`,
  ];
}

function summaryLines(alert: SummaryAlert): string[] {
  return [
    `…and ${alert.count} more dead letters of ${alert.task} with ${alert.errorClass} since ${alert.since} (${alert.total} since the first page).`,
    ...(alert.lastMessage ? [`Latest error: ${alert.lastMessage}`] : []),
    `Dead letters #${alert.firstDeadLetterId} … #${alert.lastDeadLetterId}${alert.links.dashboard ? `: ${alert.links.dashboard}` : ''}`,
    '',
    `Review them: nightshift dead-letters list --task ${alert.task} --status pending`,
  ];
}

/** One Slack block (`section`, …). */
export interface SlackBlock {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Slack's incoming-webhook payload: `text` for notifications, blocks for the message itself. */
export function slackMessage(alert: Alert): { text: string; blocks: SlackBlock[] } {
  const title = alertTitle(alert);
  const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 2_900) } });
  if (alert.kind === 'schedule') return { text: title, blocks: scheduleBlocks(alert, title, section) };
  if (alert.kind === 'summary') {
    return {
      text: title,
      blocks: [
        section(`*${escape(title)}*\n${alert.count} more since ${alert.since}${alert.lastMessage ? `\nLatest: ${escape(alert.lastMessage)}` : ''}`),
        ...(alert.links.dashboard ? [section(`<${alert.links.dashboard}|Review the dead letters of ${escape(alert.task)}>`)] : []),
      ],
    };
  }
  const links = [
    alert.links.dashboard ? `<${alert.links.dashboard}|Dead letter #${alert.deadLetterId}>` : `Dead letter #${alert.deadLetterId}`,
    ...(alert.links.trace ? [`<${alert.links.trace}|Trace>`] : []),
  ];
  return {
    text: title,
    blocks: [
      section(`*${escape(title)}*\n${escape(alert.error.message)}`),
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Task*\n${escape(alert.task)}` },
          { type: 'mrkdwn', text: `*Attempts*\n${attempts(alert.attempts)}` },
          { type: 'mrkdwn', text: `*Reason*\n${alert.reason}` },
          { type: 'mrkdwn', text: `*Queue*\n${escape(alert.queue ?? '-')}` },
        ],
      },
      section(`*Args*\n\`\`\`${escape(alert.args)}\`\`\``),
      section(links.join(' · ')),
    ],
  };
}

function scheduleBlocks(alert: ScheduleAlert, title: string, section: (text: string) => SlackBlock): SlackBlock[] {
  const field = (name: string, value: string) => ({ type: 'mrkdwn', text: `*${name}*\n${escape(value)}` });
  return [
    section(`*${escape(title)}*\n${escape(alert.detail)}`),
    {
      type: 'section',
      fields: [
        field('Schedule', alert.entry), field('Task', alert.task), field('Last success', alert.lastSuccessAt ?? 'none seen'),
        field(alert.dueBy ? 'Expected by' : 'Status', alert.dueBy ?? alert.status),
      ],
    },
    ...(alert.cause ? [section(`*Likely cause*\n${escape(alert.cause)}`)] : []),
    ...(alert.lastError ? [section(`*Last error*\n\`\`\`${escape(alert.lastError)}\`\`\``)] : []),
    ...(alert.links.dashboard ? [section(`<${alert.links.dashboard}|Schedule ${escape(alert.entry)} on the dashboard>`)] : []),
  ];
}

function attempts(count: number | null): string {
  return count === null ? 'an unknown number of attempts' : `${count} attempt${count === 1 ? '' : 's'}`;
}

// Slack's mrkdwn treats these three as markup.
function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
