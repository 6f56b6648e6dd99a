import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../command.ts';

/** The options that write an entry's fields, as `schedule create` and `schedule update` take them. */
export const ENTRY_OPTIONS = {
  task: { type: 'string' },
  cron: { type: 'string' },
  every: { type: 'string' },
  timezone: { type: 'string' },
  args: { type: 'string' },
  kwargs: { type: 'string' },
  queue: { type: 'string' },
  expires: { type: 'string' },
  misfire: { type: 'string' },
  overlap: { type: 'string' },
  jitter: { type: 'string' },
  'start-at': { type: 'string' },
  'end-at': { type: 'string' },
  alert: { type: 'string' },
  note: { type: 'string' },
} as const;

export type EntryValues = { readonly [K in keyof typeof ENTRY_OPTIONS]?: string } & { readonly name?: string; readonly file?: string };

/** The entry's JSON fields each option writes. */
const FIELD_OF: Readonly<Record<string, string>> = {
  task: 'task', cron: 'schedule', every: 'schedule', timezone: 'timezone', args: 'args', kwargs: 'kwargs', queue: 'queue', expires: 'expires',
  misfire: 'misfire', overlap: 'overlap', jitter: 'jitter', 'start-at': 'startAt', 'end-at': 'endAt', alert: 'alert', note: 'note', name: 'name',
};

/** The fields an update may remove with `none` (back to the default: the app's zone, the task's queue, no jitter, …). */
const REMOVABLE = new Set(['timezone', 'queue', 'expires', 'jitter', 'start-at', 'end-at', 'alert', 'note']);

/** The option that writes an entry's field, for a hint: `startAt` → `--start-at`, `schedule` → `--cron or --every`. */
export function optionOf(field: string): string | undefined {
  if (field === 'schedule') return '--cron or --every';
  const option = Object.keys(FIELD_OF).find((key) => FIELD_OF[key] === field);
  return option === undefined ? undefined : `--${option}`;
}

/**
 * The entry's fields the command line gives: those of `--file` (a JSON object, the entry's JSON form and
 * optionally its `note`), then those of the options, which win. With `removing`, `none` stands for "remove this
 * field" and becomes `null`. Only what can be told without the app is checked here; the entry itself is checked
 * by the operation, as for every caller, and its error names the field.
 */
export function entryFields(values: EntryValues, cwd: string, removing: boolean): Record<string, unknown> {
  const fields: Record<string, unknown> = values.file === undefined ? {} : readEntryFile(values.file, cwd);
  if (values.cron !== undefined && values.every !== undefined) throw new UsageError('give --cron or --every, not both', 'an entry fires on a cron schedule (--cron \'0 9 * * *\') or at an interval (--every 5m)');
  for (const [option, field] of Object.entries(FIELD_OF)) {
    const text = (values as Readonly<Record<string, string | undefined>>)[option];
    if (text === undefined) continue;
    if (removing && REMOVABLE.has(option) && text === 'none') {
      fields[field] = null;
      continue;
    }
    fields[field] = optionValue(option, text);
  }
  return fields;
}

function optionValue(option: string, text: string): unknown {
  switch (option) {
    case 'every': return { every: text };
    case 'args': {
      const args = parseJson(text, '--args', 'a JSON array, e.g. \'["usage", 3]\'');
      if (!Array.isArray(args)) throw new UsageError('--args must be a JSON array', 'e.g. --args \'["usage", 3]\' (wrap a single object as \'[{"timeout": 5}]\')');
      return args;
    }
    case 'kwargs': {
      const kwargs = parseJson(text, '--kwargs', 'a JSON object, e.g. \'{"region": "eu"}\'');
      if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) throw new UsageError('--kwargs must be a JSON object', 'e.g. --kwargs \'{"region": "eu"}\'');
      return kwargs;
    }
    case 'alert': {
      const alert = parseJson(text, '--alert', 'a JSON object, e.g. \'{"overdueAfter": "10m", "afterFailures": 3}\'');
      if (typeof alert !== 'object' || alert === null || Array.isArray(alert)) throw new UsageError('--alert must be a JSON object', 'e.g. --alert \'{"overdueAfter": "10m", "afterFailures": 3}\' or --alert \'{"overdueAfter": false}\'');
      return alert;
    }
    // A policy's name, or the policy with its settings as JSON.
    case 'misfire': return text.trimStart().startsWith('{') ? parseJson(text, '--misfire', 'skip, once, all, or JSON such as \'{"policy": "all", "cap": 3}\'') : text;
    default: return text;
  }
}

function readEntryFile(path: string, cwd: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new UsageError(`--file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, 'give the path of a JSON file holding the entry, e.g. {"name": "nightly", "task": "reports.generate", "schedule": "0 2 * * *"}');
  }
  const entry = parseJson(text, `--file ${path}`, 'one JSON object: the entry, e.g. {"name": "nightly", "task": "reports.generate", "schedule": "0 2 * * *"}');
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`--file ${path} must hold one JSON object: the entry`, 'e.g. {"name": "nightly", "task": "reports.generate", "schedule": "0 2 * * *", "note": "why"}');
  return { ...entry as Record<string, unknown> };
}

function parseJson(text: string, option: string, expected: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${option} is not valid JSON (${(error as Error).message})`, `it must be ${expected}; quote it for the shell`);
  }
}
