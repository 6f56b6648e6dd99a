import { ConfigError } from '@nightshift/core';
import type { CronFields } from './cron-fields.ts';

/** The most days each month can have (February: 29, in a leap year). */
const LONGEST_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const monthName = (month: number): string => new Date(Date.UTC(2000, month - 1, 1)).toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });

/**
 * Refuses a cron whose days of month never occur in its months (`0 0 30 feb *`, `0 0 31 4,6,9,11 *`): it
 * would never fire, and croner only finds that out by searching years ahead when beat asks for the next
 * run. With the day of week restricted too, Vixie's OR lets the weekdays fire, so such a cron is fine.
 * @throws ConfigError naming the entry, the days and the months.
 */
export function checkDatesOccur(fields: CronFields, where: string): void {
  if (fields.dayOfMonth.star || !fields.dayOfWeek.star) return;
  const firstDay = fields.dayOfMonth.values[0] ?? 1;
  if (fields.month.values.some((month) => firstDay <= (LONGEST_MONTH[month - 1] ?? 31))) return;
  const days = fields.dayOfMonth.values.length === 1 ? `day ${firstDay} never occurs` : `days ${fields.dayOfMonth.text} never occur`;
  const months = fields.month.values.map(monthName);
  const listed = months.length === 1 ? months[0] : `${months.slice(0, -1).join(', ')} or ${months.at(-1)}`;
  throw new ConfigError(`${where}: ${days} in ${listed}, so this schedule would never run`, { field: 'schedule' });
}
