import type { FireView, ScheduleView } from '@nightshift/client';
import { formatInZone } from '@nightshift/schedule';
import { UsageError, type Io } from '../command.ts';
import { readableDuration } from '../readable-duration.ts';
import { shortTime, table } from '../text-table.ts';
import { withSchedules } from './schedule-client.ts';

/** `nightshift schedule list`: every entry, the code's first, then the runtime's. */
export async function listEntries(appPath: string, values: { readonly json: boolean }, io: Io): Promise<number> {
  return withSchedules(appPath, io, values.json, async ({ schedules, app }) => {
    const views = await schedules.list();
    if (values.json) {
      for (const view of views) io.stdout.write(`${JSON.stringify(view)}\n`);
      return 0;
    }
    if (views.length === 0) {
      io.stdout.write(`app "${app.name}" has no schedule entries; create one: nightshift schedule create --app ${appPath} --name <name> --task <task> --cron '0 9 * * *'\n`);
      return 0;
    }
    const rows = views.map((view) => [
      view.name, view.source, view.task, scheduleText(view), view.timezone, state(view), view.paused || view.problem ? '-' : shortTime(view.nextRuns[0] ?? null),
    ]);
    io.stdout.write(`${table([['NAME', 'SOURCE', 'TASK', 'SCHEDULE', 'ZONE', 'STATE', 'NEXT RUN'], ...rows])}\n`);
    for (const view of views) if (view.problem) io.stdout.write(`${view.name} is not dispatched: ${view.problem}\n`);
    return 0;
  });
}

/** `nightshift schedule show <name>`: one entry, all there is to know of it. */
export async function showEntry(appPath: string, name: string, values: { readonly json: boolean }, io: Io): Promise<number> {
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    const view = await schedules.get(name);
    io.stdout.write(values.json ? `${JSON.stringify(view)}\n` : describeEntry(view));
    return 0;
  });
}

/** An entry in words, one field a line, then its next fire times in its zone and in UTC. */
export function describeEntry(view: ScheduleView): string {
  const call = `${view.task}(${view.args.map((arg) => JSON.stringify(arg)).join(', ')}${Object.keys(view.kwargs).length > 0 ? `${view.args.length > 0 ? ', ' : ''}${JSON.stringify(view.kwargs)}` : ''})`;
  const who = (by: string | null, at: string | null) => `by ${by ?? 'someone'} at ${shortTime(at)}`;
  const fields: [string, string | null][] = [
    ['schedule', typeof view.schedule === 'string' ? `${scheduleText(view)}: ${view.description}` : view.description],
    ['zone', view.timezone],
    ['queue', view.queue],
    ['misfire', typeof view.misfire === 'string' ? view.misfire : JSON.stringify(view.misfire)],
    ['overlap', view.overlap],
    ['jitter', view.jitter],
    ['starts', view.startAt],
    ['ends', view.endAt],
    ['expires', view.expires],
    ['note', view.note],
    ['created', view.createdAt === null ? null : who(view.createdBy, view.createdAt)],
    ['changed', view.updatedAt === null ? null : who(view.updatedBy, view.updatedAt)],
    ['state', view.paused ? `paused ${who(view.paused.by, view.paused.at)}${view.paused.note ? ` (${JSON.stringify(view.paused.note)})` : ''}` : 'running'],
    ['problem', view.problem === null ? null : `not dispatched: ${view.problem}`],
  ];
  const shown = fields.filter((field): field is [string, string] => field[1] !== null && field[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length)) + 2;
  const lines = [
    `${view.name} → ${call}  (${view.source === 'code' ? 'in the app\'s code' : `runtime, version ${view.version}`})`,
    ...shown.map(([label, value]) => `  ${`${label}:`.padEnd(width)}${value}`),
    view.nextRuns.length === 0 ? '  no fire time left' : `  next fire times (${view.timezone === 'UTC' ? 'UTC' : `${view.timezone}, then UTC`})${view.paused ? ', not sent while paused' : ''}:`,
    ...view.nextRuns.map((iso) => `    ${formatInZone(Date.parse(iso), view.timezone)}   ${iso.replace('.000Z', 'Z')}`),
  ];
  return `${lines.join('\n')}\n`;
}

export interface HistoryValues {
  readonly limit?: string;
  readonly before?: string;
  readonly json: boolean;
}

/** `nightshift schedule history <name>`: the next fire times, then the recent fires, newest first, with their fates. */
export async function showHistory(appPath: string, name: string, values: HistoryValues, io: Io): Promise<number> {
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError(`--limit ${JSON.stringify(values.limit)} must be a whole number from 1 to 500`);
  if (values.before !== undefined && Number.isNaN(Date.parse(values.before))) throw new UsageError(`--before ${JSON.stringify(values.before)} is not a time`, 'e.g. --before 2026-11-24T02:30:00Z (the last fire time of the previous page)');
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    const { next, fires } = await schedules.history(name, { limit, ...(values.before !== undefined ? { before: new Date(values.before).toISOString() } : {}) });
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ entry: name, next })}\n`);
      for (const fire of fires) io.stdout.write(`${JSON.stringify(fire)}\n`);
      return 0;
    }
    io.stdout.write(next.length === 0 ? `${name}: no fire time left\n` : `${name}: next fire times ${next.map((iso) => shortTime(iso)).join(', ')}\n`);
    if (fires.length === 0) {
      io.stdout.write(values.before ? 'no fires recorded before that time\n' : 'no fires recorded yet (the health-api records them from beat\'s events, as they happen)\n');
      return 0;
    }
    const rows = fires.map((fire) => [
      shortTime(fire.fireTime), fire.origin, fireState(fire), fire.runId ?? '-', fire.latenessMs === null ? '-' : readableDuration(fire.latenessMs),
      fire.run?.state ?? '-', fire.run?.runtimeMs == null ? '-' : readableDuration(fire.run.runtimeMs), fire.by ?? '',
    ]);
    io.stdout.write(`${table([['FIRE TIME', 'ORIGIN', 'FATE', 'RUN', 'LATE', 'OUTCOME', 'RUNTIME', 'BY'], ...rows])}\n`);
    if (fires.length === limit) io.stdout.write(`more: nightshift schedule history ${name} --app ${appPath} --before ${fires.at(-1)?.fireTime}\n`);
    return 0;
  });
}

/** `running`, `paused by ana`, or `not dispatched` for a stored entry that no longer fits the app. */
function state(view: ScheduleView): string {
  if (view.problem) return 'not dispatched';
  return view.paused ? `paused by ${view.paused.by ?? 'someone'}` : 'running';
}

/** A fire's fate: `sent`, or why not, with the number of fire times a row of several stands for. */
function fireState(fire: FireView): string {
  return fire.count > 1 ? `${fire.state} ×${fire.count} through ${shortTime(fire.throughTime)}` : fire.state;
}

/** The schedule as written: `'0 9 * * *'` or `every 5m`. */
export function scheduleText(view: ScheduleView): string {
  return typeof view.schedule === 'string' ? `'${view.schedule}'` : `every ${view.schedule.every}`;
}
