import { ConfigError, formatDuration, parseDuration, type Duration } from '@nightshift/core';

/** An entry's `alert` as written: when its silence or its failures page someone. */
export interface EntryAlertInput {
  /**
   * The dead man's switch: how long past the time a success was due (the next fire time, plus the task's hard
   * time limit and retry horizon) before the entry is overdue and pages. `false` turns the switch off.
   * Default: `'5m'`.
   */
  readonly overdueAfter?: Duration | false;
  /** Page once when this many runs in a row end in dead letters. Default: off. */
  readonly afterFailures?: number;
  /** Pause the entry when this many runs in a row end in dead letters (the page says so). Default: off. */
  readonly pauseAfterFailures?: number;
}

/** `EntryAlertInput`, validated. */
export interface EntryAlert {
  /** Milliseconds of tolerance past the due time; `false`: no dead man's switch. */
  readonly overdueAfterMs: number | false;
  readonly afterFailures: number | undefined;
  readonly pauseAfterFailures: number | undefined;
}

export const DEFAULT_OVERDUE_AFTER_MS = 300_000;
export const DEFAULT_ENTRY_ALERT: EntryAlert = Object.freeze({ overdueAfterMs: DEFAULT_OVERDUE_AFTER_MS, afterFailures: undefined, pauseAfterFailures: undefined });
const ALERT_FIELDS = ['overdueAfter', 'afterFailures', 'pauseAfterFailures'];

/**
 * Reads an entry's `alert` (defaults: the dead man's switch on with 5 minutes' tolerance, no streak pages).
 * @throws ConfigError naming the entry and the field (`alert`).
 */
export function compileEntryAlert(input: unknown, label: string): EntryAlert {
  if (input === undefined) return DEFAULT_ENTRY_ALERT;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(`${label}: alert must be an object { overdueAfter?, afterFailures?, pauseAfterFailures? }`, { field: 'alert' });
  }
  const raw = input as Record<string, unknown>;
  const unknown = Object.keys(raw).find((key) => !ALERT_FIELDS.includes(key));
  if (unknown !== undefined) throw new ConfigError(`${label}: unknown alert field ${JSON.stringify(unknown)} (fields: ${ALERT_FIELDS.join(', ')})`, { field: 'alert' });
  const overdueAfterMs = raw.overdueAfter === false ? false
    : raw.overdueAfter === undefined ? DEFAULT_OVERDUE_AFTER_MS
      : parseDuration(raw.overdueAfter as Duration, `${label} alert.overdueAfter`);
  const count = (field: 'afterFailures' | 'pauseAfterFailures'): number | undefined => {
    const value = raw[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1000) {
      throw new ConfigError(`${label}: alert.${field} ${JSON.stringify(value)} must be a whole number from 1 to 1000`, { field: 'alert' });
    }
    return value;
  };
  return Object.freeze({ overdueAfterMs, afterFailures: count('afterFailures'), pauseAfterFailures: count('pauseAfterFailures') });
}

/** The JSON form back: only what differs from the defaults; `undefined` when all is default. */
export function entryAlertInput(alert: EntryAlert): EntryAlertInput | undefined {
  const input = {
    ...(alert.overdueAfterMs !== DEFAULT_OVERDUE_AFTER_MS ? { overdueAfter: alert.overdueAfterMs === false ? false as const : formatDuration(alert.overdueAfterMs) } : {}),
    ...(alert.afterFailures !== undefined ? { afterFailures: alert.afterFailures } : {}),
    ...(alert.pauseAfterFailures !== undefined ? { pauseAfterFailures: alert.pauseAfterFailures } : {}),
  };
  return Object.keys(input).length === 0 ? undefined : input;
}
