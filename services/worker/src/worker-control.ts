import { parseRateLimit, validateQueueName, type RateLimit } from '@nightshift/core';
import type { ControlRequest } from '@nightshift/broker';
import { readPoolBounds, resizedPool, type PoolBounds } from './pool-control.ts';

/** What the worker controls act on (Flower's worker controls; Celery's `pool_restart`, `pool_grow`, …). */
export interface ControlTarget {
  readonly poolSize: number;
  readonly bounds: PoolBounds;
  /** The largest pool the worker's consumers can feed: autoscale's max may not pass it. */
  readonly largestPool: number;
  readonly queues: readonly string[];
  /** Starts a graceful shutdown (the grace period applies) after the reply has gone. */
  shutdown(reason: string): void;
  /** Replaces the pool by a warm one of `size` sandboxes; resolves once new attempts go to it. */
  replacePool(size: number): Promise<void>;
  setBounds(bounds: PoolBounds): void;
  addConsumer(queue: string): Promise<void>;
  cancelConsumer(queue: string): Promise<void>;
  knowsTask(task: string): boolean;
  setRateLimit(task: string, limit: RateLimit | undefined): void;
}

/** A control's reply: `ok`, what it did and the pool and consumers after it; or `ok: false` and why. */
export type ControlOutcome =
  | { readonly ok: true; readonly action: string; readonly detail: string; readonly poolSize: number; readonly bounds: PoolBounds; readonly queues: readonly string[] }
  | { readonly ok: false; readonly action: string; readonly error: string; readonly code: 'E_CONTROL_REFUSED' | 'E_BAD_PARAMETER' };

/** Commands of the worker controls, as sent on the control exchange. */
export const WORKER_CONTROLS = ['shutdown', 'pool-restart', 'pool-grow', 'pool-shrink', 'autoscale', 'add-consumer', 'cancel-consumer', 'rate-limit'] as const;
export type WorkerControl = (typeof WORKER_CONTROLS)[number];

export function isWorkerControl(command: string): command is WorkerControl {
  return (WORKER_CONTROLS as readonly string[]).includes(command);
}

/** Carries out one worker control; never throws (a refusal is a reply). */
export async function answerWorkerControl(target: ControlTarget, request: ControlRequest & { command: WorkerControl }): Promise<ControlOutcome> {
  const action = request.command;
  const { args } = request;
  const done = (detail: string): ControlOutcome => ({ ok: true, action, detail, poolSize: target.poolSize, bounds: target.bounds, queues: [...target.queues] });
  const refused = (error: string, code: 'E_CONTROL_REFUSED' | 'E_BAD_PARAMETER' = 'E_CONTROL_REFUSED'): ControlOutcome => ({ ok: false, action, error, code });
  try {
    switch (action) {
      case 'shutdown': {
        target.shutdown(`control: shutdown${typeof args.by === 'string' ? ` by ${args.by}` : ''}`);
        return done('shutting down: no new tasks; running ones may finish within the grace period');
      }
      case 'pool-restart': {
        await target.replacePool(target.poolSize);
        return done(`pool restarted: ${target.poolSize} new sandboxes take new tasks; running tasks finish in the old ones`);
      }
      case 'pool-grow':
      case 'pool-shrink': {
        const n = args.n ?? 1;
        if (typeof n !== 'number') return refused(`n: ${JSON.stringify(n)} must be a whole number of at least 1`, 'E_BAD_PARAMETER');
        const from = target.poolSize;
        const resized = resizedPool(from, action === 'pool-grow' ? n : -n, target.bounds);
        if ('refused' in resized) return refused(resized.refused, resized.refused.startsWith('n:') ? 'E_BAD_PARAMETER' : 'E_CONTROL_REFUSED');
        await target.replacePool(resized.size);
        return done(`pool ${action === 'pool-grow' ? 'grown' : 'shrunk'} from ${from} to ${resized.size} sandboxes`);
      }
      case 'autoscale': {
        const bounds = readPoolBounds(args.min, args.max);
        if ('refused' in bounds) return refused(bounds.refused, 'E_BAD_PARAMETER');
        if (bounds.max > target.largestPool) {
          return refused(`max: ${bounds.max} is more than this worker can feed (${target.largestPool}: its consumers' prefetch is fixed at start); start it with a larger --concurrency or --autoscale max`, 'E_BAD_PARAMETER');
        }
        target.setBounds(bounds);
        const size = Math.min(bounds.max, Math.max(bounds.min, target.poolSize));
        if (size !== target.poolSize) await target.replacePool(size);
        return done(`pool bounds set to ${bounds.min}..${bounds.max}, following the load; ${target.poolSize} sandboxes`);
      }
      case 'add-consumer': {
        let queue: string;
        try {
          queue = validateQueueName(args.queue, 'queue');
        } catch (error) {
          return refused((error as Error).message, 'E_BAD_PARAMETER');
        }
        if (target.queues.includes(queue)) return refused(`already consuming queue "${queue}"`);
        await target.addConsumer(queue);
        return done(`consuming queue "${queue}"`);
      }
      case 'cancel-consumer': {
        const queue = String(args.queue ?? '');
        if (!target.queues.includes(queue)) return refused(`not consuming queue ${JSON.stringify(queue)} (consuming: ${target.queues.join(', ') || 'none'})`);
        if (target.queues.length === 1) return refused(`queue "${queue}" is the last one consumed: shut the worker down instead`);
        await target.cancelConsumer(queue);
        return done(`stopped consuming queue "${queue}"; tasks already received finish`);
      }
      case 'rate-limit': {
        const task = String(args.task ?? '');
        if (!target.knowsTask(task)) return refused(`task: no task named ${JSON.stringify(task)} on this worker`, 'E_BAD_PARAMETER');
        if (args.rate === null || args.rate === undefined || args.rate === 'none') {
          target.setRateLimit(task, undefined);
          return done(`task "${task}": no rate limit`);
        }
        let limit: RateLimit;
        try {
          limit = parseRateLimit(args.rate, 'rate');
        } catch (error) {
          return refused((error as Error).message, 'E_BAD_PARAMETER');
        }
        target.setRateLimit(task, limit);
        return done(`task "${task}": at most ${limit.text} on this worker`);
      }
    }
  } catch (error) {
    return refused(`${action} failed: ${(error as Error).message}`);
  }
}
