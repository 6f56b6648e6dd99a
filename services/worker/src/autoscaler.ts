import type { Logger } from '@nightshift/core';
import type { PoolBounds } from './pool-control.ts';

/** How often the load is looked at (Celery's autoscaler looks every second too). */
export const AUTOSCALE_TICK_MS = 1_000;

/** A change of the pool's size the load asks for, and why (for the log, the worker's page and the audit). */
export interface AutoscaleStep {
  readonly size: number;
  readonly reason: string;
}

/**
 * Celery's `--autoscale` rule, as a pure function: grow at once to as many sandboxes as attempts want one (within
 * `max`); shrink, to what is wanted but not below `min`, only once the pool has not been full for `keepaliveMs`,
 * so a burst's tail, or the pause between two bursts, does not replace the pool twice. `undefined`: no change.
 * @param demand attempts that want a sandbox now: running, ready behind a running one, and waiting for a place.
 * @param sinceFullMs how long since the pool was last full (every sandbox wanted) or last resized.
 */
export function autoscaleStep(size: number, demand: number, bounds: PoolBounds, sinceFullMs: number, keepaliveMs: number): AutoscaleStep | undefined {
  const wanted = Math.min(bounds.max, Math.max(bounds.min, demand));
  if (wanted > size) return { size: wanted, reason: `${demand} task${demand === 1 ? '' : 's'} wanted a sandbox` };
  if (size > bounds.max) return { size: bounds.max, reason: `above the maximum of ${bounds.max}` };
  if (wanted < size && sinceFullMs >= keepaliveMs) {
    return { size: wanted, reason: demand === 0 ? `idle for ${Math.round(sinceFullMs / 1000)} s` : `${demand} task${demand === 1 ? '' : 's'} for ${size} sandboxes over ${Math.round(sinceFullMs / 1000)} s` };
  }
  return undefined;
}

/** What the autoscaler watches and resizes: the worker. */
export interface AutoscaleTarget {
  readonly size: number;
  readonly bounds: PoolBounds;
  /** Attempts that want a sandbox now (see `autoscaleStep`); tasks held back by a rate limit do not count. */
  readonly demand: number;
  /** Replaces the pool by one of `size` (one change at a time); resolves once new attempts go to it. */
  resize(size: number): Promise<void>;
  /** Called after each change the load made, e.g. to tell the dashboard at once. */
  changed(change: AutoscaleChange): void;
}

/** The last change the load made, as the worker reports it (`stats`, heartbeats, the worker's page). */
export interface AutoscaleChange {
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  /** ISO 8601. */
  readonly at: string;
}

/**
 * Follows the load between the pool's bounds once started (`--autoscale`, or the `autoscale` control): looks
 * every `AUTOSCALE_TICK_MS` and applies `autoscaleStep`. A resize replaces the pool by a warm one (running
 * attempts finish in the old), so it is awaited before the load is looked at again.
 */
export class Autoscaler {
  readonly #target: AutoscaleTarget;
  readonly #keepaliveMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #fullAt: number;
  #resizing = false;
  #last: AutoscaleChange | undefined;

  constructor(target: AutoscaleTarget, options: { keepaliveMs: number; log: Logger; now?: () => number }) {
    this.#target = target;
    this.#keepaliveMs = options.keepaliveMs;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#fullAt = this.#now();
  }

  get following(): boolean {
    return this.#timer !== undefined;
  }

  get last(): AutoscaleChange | undefined {
    return this.#last;
  }

  get keepaliveMs(): number {
    return this.#keepaliveMs;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#fullAt = this.#now();
    this.#timer = setInterval(() => void this.tick(), AUTOSCALE_TICK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A resize made by hand (grow, shrink, restart): the keepalive starts again, so the load does not undo it at once. */
  resized(): void {
    this.#fullAt = this.#now();
  }

  /** Looks at the load once and resizes if it asks for it; a failed resize is logged and tried again next tick. */
  async tick(): Promise<void> {
    if (this.#resizing) return;
    const target = this.#target;
    const now = this.#now();
    if (target.demand >= target.size) this.#fullAt = now;
    const step = autoscaleStep(target.size, target.demand, target.bounds, now - this.#fullAt, this.#keepaliveMs);
    if (step === undefined) return;
    this.#resizing = true;
    const from = target.size;
    try {
      await target.resize(step.size);
      this.#fullAt = this.#now();
      this.#last = { from, to: step.size, reason: step.reason, at: new Date(this.#now()).toISOString() };
      this.#log.info({ from, to: step.size, reason: step.reason, bounds: target.bounds }, `autoscale: pool ${step.size > from ? 'grown' : 'shrunk'} from ${from} to ${step.size} sandboxes (${step.reason})`);
      target.changed(this.#last);
    } catch (error) {
      this.#log.warn({ err: error, from, to: step.size }, `autoscale: the pool could not be resized from ${from} to ${step.size}; trying again`);
    } finally {
      this.#resizing = false;
    }
  }
}
