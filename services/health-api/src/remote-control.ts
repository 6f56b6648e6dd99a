import { Redis } from 'ioredis';
import { broadcastControl, type ControlCommand } from '@nightshift/broker';
import {
  BadParameterError, ControlRefusedError, resolveTaskSettings, ServiceUnavailableError, revokedKey, revokeTtlMs, RevokeRefusedError, runHorizonMs,
  type AnyApp,
} from '@nightshift/core';
import type { ControlAction, ControlActions, ControlVia, TaskRuns } from '@nightshift/store';
import type { Broker } from '@nightshift/broker';

/** Worker controls the API and dashboard offer (the worker's `WORKER_CONTROLS`). */
export const WORKER_ACTIONS = ['shutdown', 'pool-restart', 'pool-grow', 'pool-shrink', 'autoscale', 'add-consumer', 'cancel-consumer', 'rate-limit'] as const;
export type WorkerAction = (typeof WORKER_ACTIONS)[number];

/** States in which a run has ended: a revoke of it is refused. */
const FINISHED = new Set(['succeeded', 'dead-lettered', 'revoked']);
/** Pool changes start and warm new sandboxes before the worker answers. */
const POOL_ANSWER_MS = 60_000;
const ANSWER_MS = 10_000;

export interface Actor {
  readonly actor: string;
  readonly via: ControlVia;
}

/** A revoke done: kept `keptMs`; `known`: whether the task history had a run with that id (else it is waited for). */
export interface RevokeResult extends ControlResult {
  readonly keptMs: number;
  readonly known: boolean;
}

/** Why `id` cannot be a task message's id, or `undefined`: ids are producers' own, so only the impossible is refused. */
export function implausibleTaskId(id: string): string | undefined {
  if (id.length === 0) return 'is empty';
  if (id.length > 255) return `is ${id.length} characters long; a task id is at most 255`;
  // A column cut short on a screen or in a terminal ("3f6c1c1e-…"): revoking it would wait for a task that never comes.
  if (id.includes('…') || id.endsWith('...')) return 'looks cut short (it has an ellipsis): copy the whole id';
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\s\u0000-\u001f\u007f]/.test(id)) return 'contains whitespace or control characters';
  return undefined;
}

export interface RemoteControlOptions {
  readonly broker: Broker;
  readonly actions: ControlActions;
  readonly taskRuns: TaskRuns;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly app: AnyApp | undefined;
  /** Workers online now (a revoke waits for that many answers at most). */
  readonly onlineWorkers: () => number;
}

/** What a control did, as the API answers it: the worker's reply and the audit row. */
export interface ControlResult {
  readonly action: string;
  readonly worker: string | null;
  readonly outcome: ControlAction['outcome'];
  readonly replies: readonly unknown[];
  readonly audit: ControlAction;
}

/**
 * Worker controls and revokes from the control room: each is sent over the control exchange, its answer awaited,
 * and recorded (who, when, what, the answer) in `control_actions` before the caller hears of it.
 */
export class RemoteControl {
  readonly #options: RemoteControlOptions;
  readonly #redis: Redis;
  readonly #ttlMs: number;

  constructor(options: RemoteControlOptions) {
    this.#options = options;
    this.#redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 2_000, connectTimeout: 2_000, connectionName: 'nightshift-health-api-revokes' });
    this.#redis.on('error', () => {});
    const horizons = options.app ? options.app.tasks.map((task) => runHorizonMs(resolveTaskSettings(options.app as AnyApp, task))) : [];
    this.#ttlMs = revokeTtlMs(Math.max(0, ...horizons));
  }

  /** Sends one worker control to one worker; a refusal or silence is recorded, then thrown (409). */
  async control(worker: string, action: WorkerAction, args: Record<string, unknown>, by: Actor): Promise<ControlResult> {
    const pool = action.startsWith('pool') || action === 'autoscale';
    const replies = await broadcastControl(this.#options.broker, action as ControlCommand, { ...args, by: by.actor }, { destination: [worker], limit: 1, timeoutMs: pool ? POOL_ANSWER_MS : ANSWER_MS });
    const reply = replies[0]?.reply as { ok?: boolean; error?: string; code?: string } | undefined;
    const outcome = reply === undefined ? 'no-reply' : reply.ok === true ? 'ok' : 'refused';
    const audit = await this.#options.actions.record({ ...by, action, worker, args, outcome, replies: replies.map((r) => r.reply) });
    if (reply === undefined) throw new ControlRefusedError(`worker "${worker}" did not answer ${action} in time: it may be gone or busy; nothing is known to have changed`);
    if (reply.ok !== true) {
      const message = reply.error ?? `${action} refused`;
      if (reply.code === 'E_BAD_PARAMETER') throw new BadParameterError(message.split(':')[0] ?? 'args', message);
      throw new ControlRefusedError(`worker "${worker}" refused ${action}: ${message}`);
    }
    return { action, worker, outcome, replies: replies.map((r) => r.reply), audit };
  }

  /**
   * Revokes a task that has not finished: kept in Redis (so a worker started later skips it too), told to every
   * worker online, recorded. A finished one is a `RevokeRefusedError` (409). An id the history does not know is
   * revoked all the same (`known: false`), as Celery does: the history records a send a moment after it is
   * published (and forgets old runs), and the on-call engineer revoking a task just sent, or sent by a producer
   * whose events lag, wants it skipped when it arrives, not a "not found" while it slips through. Only an id no
   * task message could carry (a truncated paste, whitespace) is refused, as a `BadParameterError`.
   */
  async revoke(id: string, terminate: boolean, by: Actor): Promise<RevokeResult> {
    const implausible = implausibleTaskId(id);
    if (implausible !== undefined) throw new BadParameterError('id', `id ${JSON.stringify(id)} ${implausible}: nothing was revoked`);
    const run = await this.#options.taskRuns.get(id);
    if (run !== undefined && FINISHED.has(run.state)) throw new RevokeRefusedError(id, run.state);
    if (this.#redis.status === 'wait') await this.#redis.connect().catch(() => {});
    try {
      await this.#redis.set(revokedKey(this.#options.prefix, id), JSON.stringify({ by: by.actor, at: new Date().toISOString(), terminate }), 'PX', this.#ttlMs);
    } catch (error) {
      // Told to the workers online only, a revoke would not hold for a worker started later: refused whole.
      throw new ServiceUnavailableError([`cannot keep the revoke of ${JSON.stringify(id)} in Redis (${(error as Error).message}); nothing was revoked`], ['redis']);
    }
    const replies = await broadcastControl(this.#options.broker, 'revoke', { id, terminate }, { timeoutMs: 1_000, limit: Math.max(1, this.#options.onlineWorkers()) });
    const answers = replies.map((r) => ({ worker: r.worker, reply: r.reply }));
    // A revoke with no worker online still holds: it is kept, and a worker that starts later skips the task.
    const audit = await this.#options.actions.record({
      ...by, action: terminate ? 'revoke-terminate' : 'revoke', worker: null, args: { id, task: run?.name ?? null, known: run !== undefined }, outcome: 'ok', replies: answers,
    });
    return { action: audit.action, worker: null, outcome: 'ok', replies: answers, audit, keptMs: this.#ttlMs, known: run !== undefined };
  }

  close(): void {
    this.#redis.disconnect();
  }
}
