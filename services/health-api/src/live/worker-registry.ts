import type { LifecycleEvent } from '@nightshift/broker';

/** A worker as its heartbeats describe it. */
export interface WorkerView {
  readonly name: string;
  /** `offline`: it said goodbye; `lost`: it went without (its control queue went away, or it missed 3 heartbeats). */
  readonly status: 'online' | 'offline' | 'lost';
  readonly host: string | null;
  readonly pid: number | null;
  readonly version: string | null;
  readonly queues: readonly string[];
  readonly concurrency: number | null;
  readonly pool: string | null;
  /** Tasks running now. */
  readonly active: number;
  /** Tasks held, waiting for a sandbox. */
  readonly reserved: number;
  /** Tasks finished since the worker started. */
  readonly processed: number;
  readonly uptimeMs: number | null;
  /** ISO 8601: the last heartbeat, event or ping reply. */
  readonly lastSeen: string;
  /** ISO 8601: when this registry first saw it online. */
  readonly onlineSince: string;
  /** Round trip of the last ping, in milliseconds. */
  readonly pingMs: number | null;
  /** The pool's bounds; `byLoad`: it follows the load within them (`--autoscale`), with the last change the load made. */
  readonly autoscale: WorkerAutoscale | null;
  /** Rate limits set on this worker, by task: `{ "mail.send": "100/m" }`. */
  readonly rateLimits: Readonly<Record<string, string>>;
}

export interface WorkerAutoscale {
  readonly min: number;
  readonly max: number;
  readonly byLoad: boolean;
  readonly keepaliveMs: number | null;
  readonly lastChange: { readonly from: number; readonly to: number; readonly reason: string; readonly at: string } | null;
}

interface Entry {
  view: Omit<WorkerView, 'status' | 'lastSeen'>;
  lastSeenMs: number;
  wentOffline: boolean;
  /** When its control queue was found gone (its connection closed without a goodbye). */
  lostAtMs: number | undefined;
}

const FORGET_AFTER_MS = 3_600_000;
const MISSED_HEARTBEATS = 3;

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * Which workers exist, from their `worker.online|heartbeat|offline` events and ping replies: online until it
 * says goodbye or misses 3 heartbeats, then offline (forgotten an hour later). Answers from memory, at once.
 */
export class WorkerRegistry {
  readonly #workers = new Map<string, Entry>();
  readonly #offlineAfterMs: number;

  /** @param heartbeatMs the workers' heartbeat interval (`NIGHTSHIFT_HEARTBEAT`). */
  constructor(heartbeatMs: number) {
    this.#offlineAfterMs = heartbeatMs * MISSED_HEARTBEATS;
  }

  /** Takes a `worker.*` event; other events are ignored. */
  observe(event: LifecycleEvent, nowMs = Date.now()): void {
    if (!event.type.startsWith('worker.')) return;
    const name = str(event.worker);
    if (name === null) return;
    const previous = this.#workers.get(name);
    const seenMs = Math.min(nowMs, Date.parse(event.at) || nowMs);
    const restarted = previous === undefined || previous.wentOffline || nowMs - previous.lastSeenMs > this.#offlineAfterMs;
    this.#workers.set(name, {
      view: {
        name, host: str(event.host), pid: num(event.pid), version: str(event.version),
        queues: Array.isArray(event.queues) ? event.queues.filter((q): q is string => typeof q === 'string') : [],
        concurrency: num(event.concurrency), pool: str(event.pool), active: num(event.active) ?? 0, reserved: num(event.reserved) ?? 0,
        processed: num(event.processed) ?? 0, uptimeMs: num(event.uptimeMs),
        onlineSince: restarted ? new Date(seenMs).toISOString() : (previous?.view.onlineSince ?? new Date(seenMs).toISOString()),
        pingMs: previous?.view.pingMs ?? null,
        autoscale: readAutoscale(event.autoscale),
        rateLimits: readRateLimits(event.rateLimits),
      },
      lastSeenMs: Math.max(seenMs, previous?.lastSeenMs ?? 0),
      wentOffline: event.type === 'worker.offline',
      // An event sent before the control queue was found gone (late in arriving) does not bring it back.
      lostAtMs: previous?.lostAtMs !== undefined && seenMs <= previous.lostAtMs ? previous.lostAtMs : undefined,
    });
  }

  /** A worker answered a ping after `roundTripMs`. A worker not seen before waits for its next heartbeat to be described. */
  pinged(name: string, roundTripMs: number, nowMs = Date.now()): void {
    const entry = this.#workers.get(name);
    if (entry === undefined || entry.wentOffline) return;
    entry.lastSeenMs = nowMs;
    entry.lostAtMs = undefined;
    entry.view = { ...entry.view, pingMs: roundTripMs };
  }

  /** Its control queue is gone: the worker's connection closed without a goodbye (killed, or its host died). */
  lost(name: string, nowMs = Date.now()): void {
    const entry = this.#workers.get(name);
    if (entry === undefined || entry.wentOffline || entry.lostAtMs !== undefined) return;
    entry.lostAtMs = nowMs;
  }

  list(nowMs = Date.now()): WorkerView[] {
    const views: WorkerView[] = [];
    for (const [name, entry] of this.#workers) {
      if (nowMs - entry.lastSeenMs > FORGET_AFTER_MS) {
        this.#workers.delete(name);
        continue;
      }
      // A heartbeat sent after the control queue was found gone (a reconnect that declared it again) wins.
      const lost = (entry.lostAtMs !== undefined && entry.lastSeenMs <= entry.lostAtMs) || nowMs - entry.lastSeenMs > this.#offlineAfterMs;
      const status = entry.wentOffline ? 'offline' : lost ? 'lost' : 'online';
      views.push({ ...entry.view, status, lastSeen: new Date(entry.lastSeenMs).toISOString() });
    }
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  online(nowMs = Date.now()): WorkerView[] {
    return this.list(nowMs).filter((worker) => worker.status === 'online');
  }

  get(name: string, nowMs = Date.now()): WorkerView | undefined {
    return this.list(nowMs).find((worker) => worker.name === name);
  }

  /** Every queue some worker consumes. */
  queues(): string[] {
    return [...new Set([...this.#workers.values()].flatMap((entry) => entry.view.queues))];
  }
}

function readAutoscale(value: unknown): WorkerAutoscale | null {
  if (typeof value !== 'object' || value === null) return null;
  const raw = value as Record<string, unknown>;
  const min = num(raw.min);
  const max = num(raw.max);
  if (min === null || max === null) return null;
  const change = typeof raw.lastChange === 'object' && raw.lastChange !== null ? raw.lastChange as Record<string, unknown> : undefined;
  const from = num(change?.from);
  const to = num(change?.to);
  return {
    min, max, byLoad: raw.byLoad === true, keepaliveMs: num(raw.keepaliveMs),
    lastChange: from !== null && to !== null ? { from, to, reason: str(change?.reason) ?? '', at: str(change?.at) ?? '' } : null,
  };
}

function readRateLimits(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
