import { FIELD_SPECS, type CronField, type CronFieldName } from './cron-fields.ts';
import type { CronSchedule } from './cron.ts';
import type { IntervalSchedule } from './interval.ts';
import type { Schedule } from './schedule.ts';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
/** Up to this many times of day are listed one by one ("at 09:00 and 17:30"). */
const MAX_LISTED_TIMES = 8;

/**
 * A schedule in words: `at 09:00 on Monday through Friday, Europe/Berlin`, `every 15 minutes, Europe/Berlin`,
 * `every 5 minutes`. A cron schedule ends with the zone it is read in; an interval does not depend on one.
 */
export function describeSchedule(schedule: Schedule, zone: string): string {
  return schedule.type === 'interval' ? describeInterval(schedule) : `${describeCron(schedule)}, ${zone}`;
}

function describeInterval(schedule: IntervalSchedule): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1_000, 'second'], [1, 'millisecond']];
  const [size, unit] = units.find(([ms]) => schedule.everyMs % ms === 0) ?? [1, 'millisecond'];
  const n = schedule.everyMs / size;
  const words = n === 1 ? `every ${unit}` : `every ${n} ${unit}s`;
  return schedule.anchorMs === 0 ? words : `${words} from ${new Date(schedule.anchorMs).toISOString()}`;
}

function describeCron(schedule: CronSchedule): string {
  const { minute, hour, dayOfMonth, month, dayOfWeek } = schedule.fields;
  const parts = [timeOfDay(minute, hour)];
  if (!dayOfMonth.star && !dayOfWeek.star) parts.push(`on ${fieldWords('dayOfMonth', dayOfMonth)} or on ${fieldWords('dayOfWeek', dayOfWeek)}`);
  else if (!dayOfMonth.star) parts.push(`on ${fieldWords('dayOfMonth', dayOfMonth)}`);
  else if (!dayOfWeek.star) parts.push(`on ${fieldWords('dayOfWeek', dayOfWeek)}`);
  if (!month.star) parts.push(`in ${fieldWords('month', month)}`);
  return parts.join(' ');
}

function timeOfDay(minute: CronField, hour: CronField): string {
  if (!minute.wild && !hour.wild && minute.values.length * hour.values.length <= MAX_LISTED_TIMES) {
    const times = hour.values.flatMap((h) => minute.values.map((m) => `${pad(h)}:${pad(m)}`));
    return `at ${joinAnd(times)}`;
  }
  const minutes = minute.text === '*' ? 'every minute' : /^\*\/\d+$/.test(minute.text) ? `every ${minute.text.slice(2)} minutes` : `at ${fieldWords('minute', minute)}`;
  if (hour.text === '*') return minute.wild ? minutes : `${minutes} past every hour`;
  return `${minutes} past ${fieldWords('hour', hour)}`;
}

/** `minute 0, 15 and 30`, `every 3rd hour`, `Monday through Friday`, `day-of-month 1 and 15`. */
function fieldWords(name: CronFieldName, field: CronField): string {
  const unit = name === 'dayOfMonth' ? 'day-of-month' : name === 'dayOfWeek' ? 'day' : name;
  const named = name === 'month' || name === 'dayOfWeek';
  const label = named ? '' : `${unit} `;
  const words = field.text.split(',').map((element) => {
    const [range = '', step] = element.split('/');
    const [low = '', high] = range.split('-');
    const every = step === undefined ? '' : Number(step) === 1 ? `every ${unit}` : `every ${ordinal(Number(step))} ${unit}`;
    if (range === '*') return every || `every ${unit}`;
    const span = high === undefined ? valueWords(name, low) : `${valueWords(name, low)} through ${valueWords(name, high)}`;
    return every ? `${every} from ${span}` : span;
  });
  const plain = words.every((word) => !word.startsWith('every'));
  return plain ? `${label}${joinAnd(words)}` : joinAnd(words);
}

function valueWords(name: CronFieldName, token: string): string {
  const spec = FIELD_SPECS[name];
  const value = /^\d+$/.test(token) ? Number(token) : (spec.names?.indexOf(token.slice(0, 3)) ?? 0) + (spec.namesFrom ?? 0);
  if (name === 'month') return MONTHS[value - 1] ?? token;
  if (name === 'dayOfWeek') return DAYS[value] ?? token;
  return String(value);
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

function joinAnd(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** An instant as wall time in `zone` with its offset: `2025-03-30 03:00:00 +02:00`. */
export function formatInZone(ms: number, zone: string): string {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset',
    });
    formatters.set(zone, format);
  }
  const part = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const offset = (part.timeZoneName ?? 'GMT').replace('GMT', '').replace('\u2212', '-') || '+00:00';
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second} ${offset}`;
}
