export {
  alertGroup, pageAlert, summaryAlert,
  type Alert, type AlertLinks, type AlertOptions, type PageAlert, type PageSource, type SummaryAlert, type SummarySource,
} from './alert.ts';
export { emailChannel, logChannel, slackChannel, type AlertChannel, type EmailChannelOptions, type SlackChannelOptions } from './channels.ts';
export { parseRateLimit, DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit.ts';
export { OutboxSender, type AlertOutboxPort, type OutboxEntryLike, type OutboxSenderOptions } from './outbox-sender.ts';
export { scheduleAlert, scheduleTitle, type ScheduleAlert, type ScheduleAlertEvent, type ScheduleAlertSource } from './schedule-alert.ts';
