import { ConfigError, formatDuration, loadApp } from '@nightshift/core';
import {
  checkScheduleEntries, describeMisfire, describeNextDstChange, describeSchedule, entryZone, formatInZone, jitterOffsetMs, upcomingFireTimes,
  type EntryProblem, type ScheduleEntry,
} from '@nightshift/schedule';
import { UsageError, type Io } from '../command.ts';

/** An instant: a date (midnight UTC), or a date and time with `Z` or an offset (never the machine's zone). */
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

export interface ExplainValues {
  /** Default: 5. */
  readonly count?: string;
  readonly from?: string;
  readonly json: boolean;
}

/**
 * `nightshift schedule explain`: the app's code entries as beat reads them, each in its own zone, with its jitter
 * and start and end dates. Works without any server: runtime entries are `nightshift schedule list`'s.
 */
export async function explainSchedule(appPath: string, values: ExplainValues, io: Io, now: () => number): Promise<number> {
  const count = readCount(values.count);
  const from = values.from === undefined ? now() : Date.parse(values.from);
  if (values.from !== undefined && (!INSTANT.test(values.from) || Number.isNaN(from))) throw new UsageError(`--from ${JSON.stringify(values.from)} is not an instant`, 'e.g. --from 2027-03-27T12:00Z (an ISO 8601 date and time; Z or an offset for UTC)');

  const app = await loadApp(appPath, io.cwd);
  const zone = app.timezone;
  const { outcomes } = checkScheduleEntries(app.schedule, app.tasks.map((task) => task.name));
  const since = values.from === undefined ? '' : `, fire times after ${new Date(from).toISOString().replace('.000Z', 'Z')}`;
  if (!values.json) io.stdout.write(`app "${app.name}": ${app.schedule.length} schedule ${app.schedule.length === 1 ? 'entry' : 'entries'}, time zone ${zone}${since}\n`);
  let invalid = 0;
  for (const outcome of outcomes) {
    const explained = 'entry' in outcome ? explainEntry(outcome.index, outcome.entry, zone, from, count, values.json) : outcome.problem;
    if (typeof explained === 'string') {
      io.stdout.write(explained);
      continue;
    }
    invalid += 1;
    io.stdout.write(values.json
      ? `${JSON.stringify({ index: explained.index, entry: explained.name ?? null, valid: false, error: explained.message })}\n`
      : `\n${explained.name ?? `schedule[${explained.index}]`}: INVALID\n  ${explained.message}\n`);
  }
  if (invalid === 0) return 0;
  throw new ConfigError(`${invalid} of ${app.schedule.length} schedule entries ${invalid === 1 ? 'is' : 'are'} invalid; beat would not start`, { field: 'schedule' });
}

/** `--count`: how many fire times to show, 1 to 1000 (default 5). */
export function readCount(text: string | undefined): number {
  if (text === undefined) return 5;
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > 1000) throw new UsageError(`--count ${JSON.stringify(text)} must be a whole number from 1 to 1000`);
  return count;
}

/**
 * The entry as text (one JSON line with `json`); or, should its fire times not be computable although beat's
 * checks accepted it, that as the entry's problem, so the entries after it are still explained.
 */
function explainEntry(index: number, entry: ScheduleEntry, appZone: string, from: number, count: number, json: boolean): string | EntryProblem {
  const zone = entryZone(entry, appZone);
  let times: number[];
  let dst: string | undefined;
  try {
    times = upcomingFireTimes(entry, appZone, from, count);
    dst = describeNextDstChange(entry.schedule, zone, from);
  } catch (error) {
    return { index, name: entry.name, message: `schedule[${index}] ${JSON.stringify(entry.name)}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const words = describeSchedule(entry.schedule, zone);
  const sentAt = (ms: number) => ms + jitterOffsetMs(entry.name, ms, entry.jitterMs);
  const hasKwargs = Object.keys(entry.kwargs).length > 0;
  if (json) {
    const schedule = entry.schedule.type === 'cron'
      ? { type: 'cron', expression: entry.schedule.expression, fixedTime: entry.schedule.fixedTime }
      : { type: 'interval', everyMs: entry.schedule.everyMs, anchor: new Date(entry.schedule.anchorMs).toISOString() };
    return `${JSON.stringify({
      entry: entry.name, valid: true, task: entry.task, args: entry.args, kwargs: entry.kwargs, schedule, description: words, timezone: zone,
      misfire: { policy: entry.misfire.policy, graceMs: entry.misfire.graceMs ?? null, cap: entry.misfire.cap },
      overlap: entry.overlap, jitterMs: entry.jitterMs,
      startAt: entry.startAt === undefined ? null : new Date(entry.startAt).toISOString(),
      endAt: entry.endAt === undefined ? null : new Date(entry.endAt).toISOString(),
      ...(entry.queue !== undefined ? { queue: entry.queue } : {}),
      next: times.map((ms) => ({ utc: new Date(ms).toISOString(), local: formatInZone(ms, zone), ...(entry.jitterMs > 0 ? { sendAt: new Date(sentAt(ms)).toISOString() } : {}) })),
      dst: dst ?? null,
    })}\n`;
  }
  const source = entry.schedule.type === 'cron' ? ` ('${entry.schedule.expression}')` : '';
  const call = `${entry.task}(${entry.args.map((arg) => JSON.stringify(arg)).join(', ')}${hasKwargs ? `${entry.args.length > 0 ? ', ' : ''}${JSON.stringify(entry.kwargs)}` : ''})`;
  const utc = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const zones = zone === 'UTC' ? 'UTC' : `${zone}, then UTC`;
  const lines = [
    '',
    `${entry.name} → ${call}${entry.queue === undefined ? '' : ` (queue ${entry.queue})`}`,
    `  ${words}${source}`,
    ...(entry.timezone !== undefined && entry.timezone !== appZone ? [`  zone: ${zone}, the entry's own (the app's is ${appZone})`] : []),
    `  misfire: ${describeMisfire(entry.misfire)}`,
    ...(entry.overlap === 'allow' ? [] : [`  overlap: ${entry.overlap === 'skip' ? 'skip (no run while the last one has not finished)' : 'buffer-one (a run due while the last one runs waits for it; one at most)'}`]),
    ...(entry.jitterMs > 0 ? [`  jitter: each run is sent a fixed offset of up to ${formatDuration(entry.jitterMs)} after its fire time, the same on every replica`] : []),
    ...(entry.startAt !== undefined || entry.endAt !== undefined ? [`  runs ${entry.startAt === undefined ? '' : `from ${utc(entry.startAt)}`}${entry.startAt !== undefined && entry.endAt !== undefined ? ' ' : ''}${entry.endAt === undefined ? '' : `until ${utc(entry.endAt)}`}`] : []),
    ...(dst === undefined ? [] : [`  DST: ${dst}`]),
    times.length === 0
      ? '  no fire time left: the entry has ended'
      : `  ${times.length === 1 ? 'next fire time' : `next ${times.length} fire times`} (${zones}${entry.jitterMs > 0 ? ', then when it is sent' : ''}):`,
    ...times.map((ms) => `    ${formatInZone(ms, zone)}   ${utc(ms)}${entry.jitterMs > 0 ? `   sent ${utc(sentAt(ms))}` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}
