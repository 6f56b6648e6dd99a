import { ConfigError } from '@nightshift/core';

/** The five fields of a Vixie cron expression, in order. */
export const CRON_FIELD_NAMES = ['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const;
export type CronFieldName = (typeof CRON_FIELD_NAMES)[number];

/** One parsed field. */
export interface CronField {
  /** The field as written (names lower-cased): what the words and the key of the field are built from. */
  readonly text: string;
  /** The values it matches, sorted, without duplicates; day of week 7 is folded into 0 (Sunday). */
  readonly values: readonly number[];
  /** The field is exactly `*`: for days of month and week this decides between Vixie's OR and AND. */
  readonly star: boolean;
  /** The field starts with `*`: a minute or hour field like that makes the entry *wild* for DST. */
  readonly wild: boolean;
}

export type CronFields = { readonly [K in CronFieldName]: CronField };

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** The first name's value. */
  readonly namesFrom?: number;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export const FIELD_SPECS: { readonly [K in CronFieldName]: FieldSpec } = {
  minute: { label: 'minute', min: 0, max: 59 },
  hour: { label: 'hour', min: 0, max: 23 },
  dayOfMonth: { label: 'day of month', min: 1, max: 31 },
  month: { label: 'month', min: 1, max: 12, names: MONTH_NAMES, namesFrom: 1 },
  // 0 and 7 are both Sunday, as in Vixie cron.
  dayOfWeek: { label: 'day of week', min: 0, max: 7, names: DAY_NAMES, namesFrom: 0 },
};

const ELEMENT = /^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:\/(\d+))?$/;

/**
 * Reads one field the way Vixie cron does: `*`, `*\/n`, `a`, `a-b`, `a-b/n` and comma-separated lists of
 * them, with month and day names (`jan`, `mon-fri`). Nothing else: no `?`, `L`, `W` or `#`, which Vixie
 * cron does not have.
 * @param where names the entry and field in the error, e.g. `schedule entry "backup" field hour`.
 * @throws ConfigError saying what is wrong with the field.
 */
export function parseCronField(name: CronFieldName, raw: string, where: string): CronField {
  const spec = FIELD_SPECS[name];
  const text = raw.trim().toLowerCase();
  const fail = (why: string): ConfigError => new ConfigError(`${where}: ${spec.label} ${JSON.stringify(raw)} ${why}`, { field: name });
  if (text === '') throw fail('is empty');
  const values = new Set<number>();
  for (const element of text.split(',')) {
    const match = ELEMENT.exec(element);
    if (!match) throw fail(`has ${JSON.stringify(element)}, which is not *, */n, a, a-b or a-b/n`);
    const [, star, low, high, stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw fail(`has step ${JSON.stringify(stepText)}; a step must be 1 or more`);
    let from: number;
    let to: number;
    if (star !== undefined) {
      from = spec.min;
      to = spec.max;
    } else {
      from = readValue(low as string, spec, fail);
      if (high !== undefined) to = readValue(high, spec, fail);
      else if (stepText === undefined) to = from;
      else throw fail(`has ${JSON.stringify(element)}: a step needs a range (write a-b/n or */n)`);
      if (to < from) throw fail(`has the range ${from}-${to}, which runs backwards`);
    }
    for (let value = from; value <= to; value += step) values.add(name === 'dayOfWeek' && value === 7 ? 0 : value);
  }
  return Object.freeze({
    text,
    values: Object.freeze([...values].sort((a, b) => a - b)),
    star: text === '*',
    wild: text.startsWith('*'),
  });
}

function readValue(token: string, spec: FieldSpec, fail: (why: string) => ConfigError): number {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) throw fail(`has ${value}, outside ${spec.min}-${spec.max}`);
    return value;
  }
  const index = spec.names?.indexOf(token.slice(0, 3)) ?? -1;
  if (index === -1 || token.length !== 3) {
    const names = spec.names ? ` or a name (${spec.names[0]}, ${spec.names[1]}, …)` : '';
    throw fail(`has ${JSON.stringify(token)}; expected a number from ${spec.min} to ${spec.max}${names}`);
  }
  return index + (spec.namesFrom ?? 0);
}

/** A value of a named `crontab({ … })` field: a number, a field text, or a list of either. */
export type CrontabValue = number | string | readonly (number | string)[];

/** The text of a field given to `crontab()`; `undefined` means every value (`*`). */
export function crontabFieldText(value: CrontabValue | undefined, field: CronFieldName, where: string): string {
  if (value === undefined) return '*';
  const parts = Array.isArray(value) ? value : [value];
  if (parts.length === 0) throw new ConfigError(`${where}: ${FIELD_SPECS[field].label} is an empty list`, { field });
  return parts.map((part: unknown) => {
    if (typeof part === 'number' && Number.isInteger(part)) return String(part);
    if (typeof part === 'string' && part.trim() !== '' && !/\s/.test(part.trim())) return part.trim();
    throw new ConfigError(`${where}: ${FIELD_SPECS[field].label} ${JSON.stringify(part)} must be a whole number or a cron field such as '*/5' or 'mon-fri'`, { field });
  }).join(',');
}
