import { parseRateLimit } from '@nightshift/alerts';
import {
  combineSettings, CORE_SETTINGS, defineSetting, parsers, TRACE_URL, URL_PASSWORD_SECRET,
  type AnySetting, type Secrecy, type SettingParser,
} from '@nightshift/core';
import { STORE_SETTINGS } from '@nightshift/store';
import { DEFAULT_ENTRY_LABELS, MAX_ENTRY_LABELS, RUNTIME_ENTRIES_LABEL } from '@nightshift/schedule';

// Anyone holding a Slack incoming-webhook URL can post to the channel: its path is the secret.
const WEBHOOK_SECRET: Secrecy = Object.freeze({
  mask: (raw: string) => `${URL.canParse(raw) ? new URL(raw).origin : ''}/***`,
  parts: (raw: string) => (URL.canParse(raw) ? [raw, new URL(raw).pathname] : [raw]),
});

const emailAddress: SettingParser<string> = (raw) => {
  if (!/^[^\s@<>]+@[^\s@<>]+$|<[^\s@<>]+@[^\s@<>]+>$/.test(raw)) throw new Error(`${JSON.stringify(raw)} is not an email address`);
  return raw;
};

export const SLACK_WEBHOOK_URL = defineSetting({
  name: 'NIGHTSHIFT_SLACK_WEBHOOK_URL', description: 'a Slack incoming webhook to page',
  parse: parsers.url(['https', 'http']), secret: WEBHOOK_SECRET,
});

export const SMTP_URL = defineSetting({
  name: 'NIGHTSHIFT_SMTP_URL', description: 'the mail server to page by email (`smtp://user:pass@host:587`), with `NIGHTSHIFT_ALERT_EMAIL_FROM` and `_TO`',
  parse: parsers.url(['smtp', 'smtps']), secret: URL_PASSWORD_SECRET,
});

export const ALERT_EMAIL_FROM = defineSetting({
  name: 'NIGHTSHIFT_ALERT_EMAIL_FROM', description: 'the sender of alert emails',
  parse: emailAddress,
});

export const ALERT_EMAIL_TO = defineSetting({
  name: 'NIGHTSHIFT_ALERT_EMAIL_TO', description: 'the recipients of alert emails, comma-separated',
  parse: parsers.list(emailAddress),
});

export const ALERT_WINDOW = defineSetting({
  name: 'NIGHTSHIFT_ALERT_WINDOW', description: 'how long a group collects more of the same failure before its summary',
  parse: parsers.duration(100), default: '10m',
});

export const ALERT_RATE_LIMIT = defineSetting({
  name: 'NIGHTSHIFT_ALERT_RATE_LIMIT', description: 'pages per channel, `<count>/<duration>`',
  parse: parseRateLimit, default: '20/1m',
});

export const DASHBOARD_URL = defineSetting({
  name: 'NIGHTSHIFT_DASHBOARD_URL', description: 'base of the links to dead letters in alerts',
  parse: parsers.url(['http', 'https']),
});

export const SCHEDULE_WATCH_INTERVAL = defineSetting({
  name: 'NIGHTSHIFT_SCHEDULE_WATCH_INTERVAL', description: 'how often the alerter judges every schedule entry (overdue, failing, runs not sent)',
  parse: parsers.duration(100), default: '5s',
});

export const SCHEDULE_FLAP_WINDOW = defineSetting({
  name: 'NIGHTSHIFT_SCHEDULE_FLAP_WINDOW',
  description: 'a schedule entry that goes bad again this soon after it recovered is flapping: one message, then none until it has stayed the same this long',
  parse: parsers.duration(100), default: '1h',
});

/** `NIGHTSHIFT_ALERTER_ENTRY_LABELS`: how many runtime entries have their own series in the alerter's schedule metrics (see `ScheduleSeries`). */
export const ALERTER_ENTRY_LABELS = defineSetting({
  name: 'NIGHTSHIFT_ALERTER_ENTRY_LABELS',
  description: `how many runtime schedule entries have their own series in the alerter's schedule metrics (\`entry\` label), at most ${MAX_ENTRY_LABELS}, as \`NIGHTSHIFT_BEAT_ENTRY_LABELS\` is for beat's; with more, all runtime entries are counted together as \`entry="${RUNTIME_ENTRIES_LABEL}"\` (said once in its log; the earliest due-by, so \`NightshiftScheduleOverdue\` still fires) while its pages still name each entry`,
  parse: parsers.wholeNumber(0, MAX_ENTRY_LABELS), default: String(DEFAULT_ENTRY_LABELS),
});

/** Every setting the alerter reads: the shared ones, the store's and its own. */
export const ALERTER_SETTINGS: readonly AnySetting[] = combineSettings(CORE_SETTINGS, STORE_SETTINGS, [
  SLACK_WEBHOOK_URL, SMTP_URL, ALERT_EMAIL_FROM, ALERT_EMAIL_TO, ALERT_WINDOW, ALERT_RATE_LIMIT, DASHBOARD_URL, TRACE_URL,
  SCHEDULE_WATCH_INTERVAL, SCHEDULE_FLAP_WINDOW, ALERTER_ENTRY_LABELS,
]);
