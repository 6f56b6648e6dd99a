/** Fields every service log line carries that a person reading `nightshift up` already knows or does not need. */
const KNOWN = new Set(['level', 'time', 'service', 'pid', 'hostname', 'msg', 'span_id', 'trace_flags']);
/** A longer value is cut (with `…`): the full line is in `--json` and in the service's own log. */
const MAX_VALUE = 160;
const LEVEL_COLORS: Readonly<Record<string, number>> = { warn: 33, error: 31, fatal: 31 };

/**
 * A service's JSON log line (pino) as a person reads it: `12:01:29 WARN retrying in 1.6 s  task=users.sync attempt=1`,
 * the level left out when it is `info`, an error as `err=RetryableError: the CRM answered HTTP 503`, and its
 * stack on the lines below at error level. Undefined when `text` is not such a line: it is printed as it is.
 */
export function readableLogLine(text: string, options: { color?: boolean } = {}): string | undefined {
  const record = parseLogRecord(text);
  if (record === undefined || typeof record.level !== 'string') return undefined;
  const level = record.level;
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  let label = level === 'info' ? '' : level.toUpperCase();
  const color = LEVEL_COLORS[level];
  if (label !== '' && options.color === true && color !== undefined) label = `\x1b[${color}m${label}\x1b[0m`;
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (KNOWN.has(key) || value === undefined) continue;
    if (key === 'err' && typeof value === 'object' && value !== null) {
      const err = value as { type?: unknown; name?: unknown; message?: unknown; stack?: unknown };
      const name = [err.name, err.type].find((n) => typeof n === 'string' && n !== '' && n !== 'Object');
      fields.push(`err=${quote(`${typeof name === 'string' ? `${name}: ` : ''}${String(err.message ?? '')}`)}`);
      if ((level === 'error' || level === 'fatal') && typeof err.stack === 'string' && err.stack.includes('\n    at ')) stack = err.stack;
      continue;
    }
    fields.push(`${key}=${typeof value === 'string' ? quote(value) : cut(JSON.stringify(value))}`);
  }
  // The trace id last: it is there to look the run up, not to read.
  const trace = fields.findIndex((field) => field.startsWith('trace_id='));
  if (trace !== -1) fields.push(...fields.splice(trace, 1));
  const head = [time, label, record.msg].filter((part) => part !== '').join(' ');
  const line = fields.length > 0 ? `${head}  ${fields.join(' ')}` : head;
  if (stack === undefined) return line;
  const frames = stack.split('\n').filter((l) => l.startsWith('    at ')).slice(0, 5);
  return [line, ...frames.map((frame) => `  ${frame.trim()}`)].join('\n');
}

/** A service's JSON log line (pino) as its record: an object with a string `msg`. Undefined for any other line. */
export function parseLogRecord(text: string): (Record<string, unknown> & { readonly msg: string }) | undefined {
  if (!text.startsWith('{')) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null || typeof (record as { msg?: unknown }).msg !== 'string') return undefined;
  return record as Record<string, unknown> & { readonly msg: string };
}

/** A string as it reads in `key=value`: bare when it has no space or quote, else JSON-quoted; cut when long. */
function quote(value: string): string {
  const short = cut(value);
  return /^[^\s"=]+$/.test(short) ? short : JSON.stringify(short);
}

function cut(text: string): string {
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
}
