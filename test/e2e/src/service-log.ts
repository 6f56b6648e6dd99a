// What `nightshift up --json` prints, read back: the supervisor's own events (started, restarting, stopped)
// and every line its services logged (pino JSON). Each raw line also goes to the log file, for people.
import { appendFileSync } from 'node:fs';
import { eventually } from '@nightshift/test-helpers';

/** A line of the supervisor about a service: `started` (with `pid`), `restarting`, `stopped`, … */
export interface SupervisorEvent {
  readonly kind: 'supervisor';
  /** Its place in the log: later lines have higher numbers. */
  readonly seq: number;
  /** ms since the epoch. */
  readonly time: number;
  readonly service: string;
  readonly event: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A line a service printed: its pino record (`msg`, `level`, `pid`, …), or the raw text of a non-JSON line. */
export interface ServiceLine {
  readonly kind: 'line';
  /** Its place in the log: later lines have higher numbers. */
  readonly seq: number;
  /** ms since the epoch: the service's own `time` when it logged JSON. */
  readonly time: number;
  readonly service: string;
  readonly level: string;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export type LogRecord = SupervisorEvent | ServiceLine;

/** Everything `nightshift up` printed, across every start of it, with waits on what is to come. */
export class ServiceLog {
  readonly file: string;
  readonly records: LogRecord[] = [];

  constructor(file: string) {
    this.file = file;
  }

  /** Takes one line of `nightshift up --json` output. */
  add(raw: string): void {
    if (raw.trim() === '') return;
    appendFileSync(this.file, `${raw}\n`);
    const record = parse(raw, this.records.length);
    if (record) this.records.push(record);
  }

  /** A note of the suite's own in the log file, so a reader sees where each disaster begins. */
  note(text: string): void {
    appendFileSync(this.file, `${JSON.stringify({ time: new Date().toISOString(), service: 'e2e', note: text })}\n`);
  }

  supervisorEvents(service: string, event?: string): SupervisorEvent[] {
    return this.records.filter((r): r is SupervisorEvent => r.kind === 'supervisor' && r.service === service && (event === undefined || r.event === event));
  }

  lines(service: string, msg?: string | RegExp): ServiceLine[] {
    return this.records.filter((r): r is ServiceLine => r.kind === 'line' && r.service === service && matches(r.msg, msg));
  }

  /** Waits for a line of `service` matching `msg` (and `where`), logged at or after `since`. */
  waitForLine(service: string, msg: string | RegExp, options: { since?: number; where?: (line: ServiceLine) => boolean; timeoutMs?: number } = {}): Promise<ServiceLine> {
    const { since = 0, where = () => true, timeoutMs = 30_000 } = options;
    return eventually(`${service} to log "${String(msg)}"`, () => this.lines(service, msg).find((l) => l.time >= since && where(l)), timeoutMs);
  }

  /** Waits for the supervisor to say `event` about `service` (the first such line `where` accepts). */
  waitForSupervisor(service: string, event: string, where: (e: SupervisorEvent) => boolean = () => true, timeoutMs = 30_000): Promise<SupervisorEvent> {
    return eventually(`the supervisor to say ${service} ${event}`, () => this.supervisorEvents(service, event).find(where), timeoutMs);
  }
}

function matches(text: string, pattern: string | RegExp | undefined): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? text === pattern : pattern.test(text);
}

function parse(raw: string, seq: number): LogRecord | undefined {
  let outer: Record<string, unknown>;
  try {
    outer = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const service = String(outer.service ?? '');
  const time = Date.parse(String(outer.time ?? ''));
  if (typeof outer.event === 'string') {
    const { time: _time, service: _service, event, message, ...fields } = outer;
    return { kind: 'supervisor', seq, time, service, event, message: String(message ?? ''), fields };
  }
  if (typeof outer.line !== 'string') return undefined;
  try {
    const inner = JSON.parse(outer.line) as Record<string, unknown>;
    const { msg, level, time: innerTime, ...fields } = inner;
    const at = Date.parse(String(innerTime ?? ''));
    return { kind: 'line', seq, time: Number.isNaN(at) ? time : at, service, level: String(level ?? ''), msg: String(msg ?? ''), fields };
  } catch {
    return { kind: 'line', seq, time, service, level: String(outer.stream ?? 'stdout'), msg: outer.line, fields: {} };
  }
}
