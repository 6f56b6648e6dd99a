import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Backoff, formatDuration, redactUrl, runHorizonMs, type Logger, type ResolvedTaskSettings, type TaskEnvelope } from '@nightshift/core';
import { ValueType, type Counter, type Meter, type ObservableGauge, type ObservableCallback } from '@nightshift/telemetry';
import { defineRescueCommands, readRescued, rescueKeys, rescueMember, type RescueCommands, type RescuedMessage } from './retry-rescue-keys.ts';

/** How a finished attempt ended: the outcomes that are durable before its message is acked. */
export type FinishedOutcome = 'succeeded' | 'retried' | 'dead_lettered';

/** What a completion record says of the attempt it is kept for. */
export interface CompletionRecord {
  /** `unknown` when the record was written by something other than a worker of this version. */
  readonly outcome: FinishedOutcome | 'unknown';
  /** The worker that finished it. */
  readonly worker: string | undefined;
  /** ISO 8601: when its outcome was durable. */
  readonly at: string | undefined;
}

/** Where the completion records live in Redis, under `NIGHTSHIFT_PREFIX`. */
export interface CompletionKeys {
  /** Every record, as a SCAN pattern. */
  readonly pattern: string;
  /** The record of one attempt of one task message. */
  attempt(id: string, attempt: number): string;
  /** The in-flight claim of one attempt while it runs (`<prefix>:running:<id>:<attempt>`): its holder, with a lease. */
  running(id: string, attempt: number): string;
}

export function completionKeys(prefix: string): CompletionKeys {
  const base = `${prefix}:completed`;
  return Object.freeze({
    pattern: `${base}:*`,
    attempt: (id: string, attempt: number) => `${base}:${id}:${attempt}`,
    running: (id: string, attempt: number) => `${prefix}:running:${id}:${attempt}`,
  });
}

/**
 * What a delivery may do, from one look at Redis: `finished` (a duplicate: ack it without running), `claimed` (run
 * it: this worker holds its attempt's claim), `held` (another worker runs that attempt now: wait, and ask again), or
 * `unchecked` (Redis is off or unavailable: run it, at-least-once).
 */
export type ClaimVerdict =
  | { readonly state: 'finished'; readonly record: CompletionRecord }
  | { readonly state: 'claimed' }
  | { readonly state: 'held'; readonly holder: string; readonly leaseLeftMs: number }
  | { readonly state: 'unchecked' };

// One round trip for the deliveries of a turn. KEYS, for each delivery: its record, its claim, and the rescue
// entries of its queue (retry-rescue.ts). ARGV: the holder (worker name # instance), the lease, then each
// delivery's rescue member (empty for a first attempt). A retry that arrived is no longer waited for: its rescue
// entry goes whatever the verdict. One answer for each: {1, record}, {2, holder, lease left}, or {0} (claimed).
const CLAIM_SCRIPT = `
local answers = {}
for i = 1, #KEYS, 4 do
  local member = ARGV[3 + (i - 1) / 4]
  if member ~= '' then
    redis.call('ZREM', KEYS[i + 2], member)
    redis.call('HDEL', KEYS[i + 3], member)
  end
  local done = redis.call('GET', KEYS[i])
  if done then
    answers[#answers + 1] = {1, done}
  else
    local holder = redis.call('GET', KEYS[i + 1])
    if holder and holder ~= ARGV[1] then
      answers[#answers + 1] = {2, holder, redis.call('PTTL', KEYS[i + 1])}
    else
      redis.call('SET', KEYS[i + 1], ARGV[1], 'PX', ARGV[2])
      answers[#answers + 1] = {0}
    end
  end
end
return answers`;
// The record written and the claim let go together: no moment where neither says the attempt is taken. For the
// outcomes of a turn at once. KEYS: a record and its claim, for each. ARGV: the holder, then each record and its expiry.
const FINISH_SCRIPT = `
for i = 1, #KEYS, 2 do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[i + 2])
  if redis.call('GET', KEYS[i + 1]) == ARGV[1] then redis.call('DEL', KEYS[i + 1]) end
end
return 1`;
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
// Every claim of this worker in one call; returns the keys another holder has taken (its lease had run out).
const RENEW_SCRIPT = `
local lost = {}
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == false or holder == ARGV[1] then redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) else table.insert(lost, key) end
end
return lost`;

interface ClaimCommands extends RescueCommands {
  nightshiftClaim(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Promise<Array<[number, string?, number?]>>;
  nightshiftFinish(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>;
  nightshiftRelease(claim: string, holder: string): Promise<number>;
  nightshiftRenew(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Promise<string[]>;
}

/**
 * How long the records of a task's attempts are kept: its run horizon (core's `runHorizonMs`: the hard limit ×
 * attempts + the longest wait before each retry, at least the ladder's shortest step), and at least `floorMs`.
 * A duplicate that waited in a queue longer than that runs again (at-least-once).
 */
export function completionTtlMs(settings: ResolvedTaskSettings, floorMs: number, shortestRetryStepMs = 0): number {
  return Math.max(floorMs, runHorizonMs(settings, { shortestRetryStepMs }));
}

export interface CompletionRecordsOptions {
  /** Redis (`NIGHTSHIFT_REDIS_URL`); `undefined` (`NIGHTSHIFT_COMPLETION_RECORDS=off`) keeps records in this process only. */
  readonly redisUrl: string | undefined;
  /** `NIGHTSHIFT_PREFIX`. */
  readonly prefix: string;
  /** This worker's name, written into its records. */
  readonly worker: string;
  /** Every task's settings, for the expiry of its records. */
  readonly tasks: ReadonlyMap<string, ResolvedTaskSettings>;
  /** `NIGHTSHIFT_COMPLETION_TTL`: the least a record is kept. */
  readonly ttlFloorMs: number;
  /** The retry ladder's shortest step (`NIGHTSHIFT_RETRY_LADDER`): no retry waits less. */
  readonly shortestRetryStepMs: number;
  /** `NIGHTSHIFT_COMPLETION_TIMEOUT`: how long one check or write waits for Redis. */
  readonly timeoutMs: number;
  /** `NIGHTSHIFT_COMPLETION_LEASE`: how long a running attempt's claim lasts unless renewed (every third of it). */
  readonly leaseMs: number;
  readonly log: Logger;
  readonly meter: Meter;
}

/** Attempts this worker finished, remembered without Redis: enough for a lost channel's deliveries coming back here. */
const REMEMBERED_HERE = 10_000;
/** After a check or write failed on a connection that looked fine (a hung Redis), Redis is left alone this long. */
const REST_MS = 2_000;
/** How long start-up waits for Redis before the worker takes tasks without it. */
const CONNECT_WAIT_MS = 2_000;
// Reconnecting: 100 ms doubling to 2 s, for as long as it takes.
const RECONNECT = new Backoff({ base: 100, factor: 2, max: 2_000, jitter: 0.2 }, 'worker Redis reconnect');

/**
 * The completion record of every attempt that finished here: its outcome was durable (success, the retry
 * published, the dead letter published) before the record was written, and the record before the ack. A
 * delivery whose attempt has a record is a duplicate: the worker acks it without running it.
 *
 * Records live in Redis, so every worker sees them, and in this process (the last 10,000). Redis is never
 * waited for longer than the timeout: while it is unreachable or slow, a check finds nothing (the task runs:
 * at-least-once) and a write is skipped (a later duplicate runs), each counted in
 * `nightshift_completion_records_skipped_total{operation}`; `nightshift_completion_records_up` says which it is,
 * and one warning says so when it goes and one line when it is back.
 */
export class CompletionRecords {
  readonly #redis: (Redis & ClaimCommands) | undefined;
  readonly #redisUrl: string;
  /** This worker's claims say it holds them: its name and this instance (a restart under the same name is another). */
  readonly #holder: string;
  readonly #leaseMs: number;
  /** The claims this worker holds, renewed together every third of the lease. */
  readonly #claims = new Set<string>();
  #renewal: NodeJS.Timeout | undefined;
  readonly #keys: CompletionKeys;
  readonly #prefix: string;
  readonly #worker: string;
  readonly #ttlMs: ReadonlyMap<string, number>;
  readonly #ttlFloorMs: number;
  readonly #log: Logger;
  readonly #here = new Map<string, CompletionRecord>();
  readonly #skipped: Counter;
  readonly #upGauge: ObservableGauge;
  readonly #observeUp: ObservableCallback;
  /** What the log last said: `undefined` until the first connection or failure. */
  #reachable: boolean | undefined;
  #restUntil = 0;
  /** Claims and records asked for in this turn of the event loop: each kind goes to Redis as one script call. */
  readonly #claiming: Array<{
    readonly record: string; readonly claim: string; readonly rescue: { due: string; bodies: string }; readonly member: string;
    readonly answer: (verdict: ClaimVerdict) => void;
  }> = [];
  #turn: NodeJS.Immediate | undefined;
  readonly #finishing: Array<{ readonly record: string; readonly claim: string; readonly value: string; readonly ttlMs: number; readonly done: () => void }> = [];

  constructor(options: CompletionRecordsOptions) {
    this.#redisUrl = options.redisUrl === undefined ? '' : redactUrl(options.redisUrl);
    this.#keys = completionKeys(options.prefix);
    this.#prefix = options.prefix;
    this.#worker = options.worker;
    this.#holder = `${options.worker}#${randomUUID().slice(0, 8)}`;
    this.#leaseMs = options.leaseMs;
    this.#ttlFloorMs = options.ttlFloorMs;
    this.#ttlMs = new Map([...options.tasks].map(([name, settings]) => [name, completionTtlMs(settings, options.ttlFloorMs, options.shortestRetryStepMs)]));
    this.#log = options.log;
    this.#skipped = options.meter.createCounter('nightshift.completion_records.skipped', {
      description: 'Completion checks (operation=check: the task ran unchecked) and writes (operation=write) not made because Redis was unreachable or slow', valueType: ValueType.INT,
    });
    this.#upGauge = options.meter.createObservableGauge('nightshift.completion_records.up', {
      description: 'Whether this worker reaches the completion records in Redis (1) or not (0: duplicates of attempts finished elsewhere run again)', valueType: ValueType.INT,
    });
    this.#observeUp = (result) => {
      if (this.#redis !== undefined) result.observe(this.#usable() ? 1 : 0);
    };
    this.#upGauge.addCallback(this.#observeUp);
    if (options.redisUrl === undefined) return;
    for (const operation of ['check', 'write']) this.#skipped.add(0, { operation });
    this.#redis = new Redis(options.redisUrl, {
      lazyConnect: true,
      // While it is down a command fails at once: the task runs, nothing queues up behind Redis.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1_000, options.timeoutMs),
      retryStrategy: (times: number) => RECONNECT.delay(times),
      // Checks and writes of the deliveries of one tick go to Redis as one write.
      enableAutoPipelining: true,
      connectionName: 'nightshift-worker',
    }) as Redis & ClaimCommands;
    this.#redis.defineCommand('nightshiftClaim', { lua: CLAIM_SCRIPT });
    this.#redis.defineCommand('nightshiftFinish', { lua: FINISH_SCRIPT });
    defineRescueCommands(this.#redis);
    this.#redis.defineCommand('nightshiftRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    this.#redis.defineCommand('nightshiftRenew', { lua: RENEW_SCRIPT });
    this.#renewal = setInterval(() => void this.#renew(), Math.max(100, Math.floor(this.#leaseMs / 3)));
    this.#renewal.unref();
    // The client's errors repeat on every reconnect attempt; what they mean is said once (#unreachable).
    this.#redis.on('error', (error: Error) => this.#log.debug({ err: { message: error.message }, redis: this.#redisUrl }, 'Redis connection error (completion records)'));
    this.#redis.on('ready', () => {
      this.#restUntil = 0;
      this.#reached();
    });
    // Only a connection that was up is lost; before the first one, `connect` says what start-up found.
    this.#redis.on('close', () => {
      if (this.#reachable === true) this.#unreachable('the connection closed');
    });
  }

  /** `redis`, or `off` (records in this process only). */
  get mode(): 'redis' | 'off' {
    return this.#redis === undefined ? 'off' : 'redis';
  }

  /** The record expiry of a task's attempts, in milliseconds. */
  ttlMs(task: string): number {
    return this.#ttlMs.get(task) ?? this.#ttlFloorMs;
  }

  /** Connects to Redis, waiting at most 2 s: without it the worker starts all the same, and says so. Never throws. */
  async connect(): Promise<void> {
    const redis = this.#redis;
    if (redis === undefined) return;
    const connected = redis.connect().then(() => true, () => false);
    const waited = new Promise<false>((resolve) => setTimeout(resolve, CONNECT_WAIT_MS, false).unref());
    if (!(await Promise.race([connected, waited]))) this.#unreachable('not reachable at start-up');
  }

  /** What this worker holds claims as: `<worker>#<instance>`. */
  get holder(): string {
    return this.#holder;
  }

  /** The lease of a claim, in milliseconds. */
  get leaseMs(): number {
    return this.#leaseMs;
  }

  /**
   * Before a delivery runs: whether its attempt finished (here, or anywhere Redis says), and if not, takes the
   * attempt's in-flight claim, unless another worker holds it. One round trip (a script); never throws.
   */
  async claim(envelope: TaskEnvelope): Promise<ClaimVerdict> {
    const key = this.#keys.attempt(envelope.id, envelope.attempt);
    const here = this.#here.get(key);
    if (here !== undefined) return { state: 'finished', record: here };
    if (this.#redis === undefined) return { state: 'unchecked' };
    if (!this.#usable()) {
      this.#skipped.add(1, { operation: 'check' });
      return { state: 'unchecked' };
    }
    const claim = this.#keys.running(envelope.id, envelope.attempt);
    return new Promise((answer) => {
      // A retry that arrived is no longer waited for (retry-rescue.ts): its entry goes with the claim.
      const rescue = rescueKeys(this.#prefix, envelope.queue);
      const member = envelope.attempt > 1 ? rescueMember(envelope) : '';
      this.#claiming.push({ record: key, claim, rescue, member, answer });
      this.#askAfterTurn();
    });
  }

  /**
   * Sends the checks and records asked for in this turn of the event loop once it is over: deliveries of a socket
   * read, and outcomes that arrived together, become one script call each, both in one write to Redis (on this
   * machine a write to a socket costs more than the script's work).
   */
  #askAfterTurn(): void {
    if (this.#turn !== undefined) return;
    this.#turn = setImmediate(() => {
      this.#turn = undefined;
      if (this.#claiming.length > 0) void this.#claimTurn();
      if (this.#finishing.length > 0) void this.#finishTurn();
    });
  }

  async #claimTurn(): Promise<void> {
    const batch = this.#claiming.splice(0);
    const redis = this.#redis as Redis & ClaimCommands;
    try {
      const answers = await redis.nightshiftClaim(
        batch.length * 4, ...batch.flatMap((b) => [b.record, b.claim, b.rescue.due, b.rescue.bodies]), this.#holder, this.#leaseMs, ...batch.map((b) => b.member),
      );
      this.#reached();
      batch.forEach(({ claim, answer }, i) => {
        const [verdict, value, leaseLeftMs] = answers[i] ?? [0];
        if (verdict === 1) answer({ state: 'finished', record: readRecord(value ?? '') });
        else if (verdict === 2) answer({ state: 'held', holder: value ?? 'unknown', leaseLeftMs: Math.max(0, Number(leaseLeftMs ?? 0)) });
        else {
          this.#claims.add(claim);
          answer({ state: 'claimed' });
        }
      });
    } catch (error) {
      // They may have been taken all the same (a reply lost to the timeout): renewed and let go like ones that were.
      for (const { claim } of batch) this.#claims.add(claim);
      this.#failed('check', error, batch.length);
      for (const { answer } of batch) answer({ state: 'unchecked' });
    }
  }

  /** Lets the attempt's claim go without a record (it did not finish: returned to its queue, revoked, crashed). Never throws. */
  async release(envelope: TaskEnvelope): Promise<void> {
    const claim = this.#keys.running(envelope.id, envelope.attempt);
    if (!this.#claims.delete(claim) || this.#redis === undefined || !this.#usable()) return;
    try {
      await this.#redis.nightshiftRelease(claim, this.#holder);
    } catch (error) {
      this.#failed('write', error);
    }
  }

  /** Records that the envelope's attempt finished with `outcome`; resolves when written, or when Redis is given up on. Never throws. */
  async record(envelope: TaskEnvelope, outcome: FinishedOutcome): Promise<void> {
    const key = this.#keys.attempt(envelope.id, envelope.attempt);
    const claim = this.#keys.running(envelope.id, envelope.attempt);
    const record: CompletionRecord = { outcome, worker: this.#worker, at: new Date().toISOString() };
    this.#here.set(key, record);
    if (this.#here.size > REMEMBERED_HERE) this.#here.delete(this.#here.keys().next().value as string);
    // No longer renewed: if the write below fails, the claim runs out within its lease.
    this.#claims.delete(claim);
    if (this.#redis === undefined) return;
    if (!this.#usable()) {
      this.#skipped.add(1, { operation: 'write' });
      return;
    }
    await new Promise<void>((done) => {
      this.#finishing.push({ record: key, claim, value: JSON.stringify(record), ttlMs: this.ttlMs(envelope.task), done });
      this.#askAfterTurn();
    });
  }

  async #finishTurn(): Promise<void> {
    const batch = this.#finishing.splice(0);
    const redis = this.#redis as Redis & ClaimCommands;
    try {
      await redis.nightshiftFinish(batch.length * 2, ...batch.flatMap((b) => [b.record, b.claim]), this.#holder, ...batch.flatMap((b) => [b.value, b.ttlMs]));
      this.#reached();
    } catch (error) {
      this.#failed('write', error, batch.length);
    }
    for (const { done } of batch) done();
  }

  /**
   * Remembers that the retry `next` is on its way through the ladder, due at its `eta`, so that it is sent again
   * if it has not started long after (retry-rescue.ts). Written once the retry is confirmed, before the failed
   * attempt's record and ack; skipped (never thrown) when Redis is away: then only the ladder brings it back.
   */
  async expectRetry(next: TaskEnvelope, message: RescuedMessage): Promise<void> {
    if (this.#redis === undefined || !this.#usable()) return;
    const keys = rescueKeys(this.#prefix, next.queue);
    try {
      await this.#redis.nightshiftExpectRetry(keys.due, keys.bodies, Date.parse(next.eta ?? '') || Date.now(), rescueMember(next), JSON.stringify(message));
    } catch (error) {
      this.#failed('write', error);
    }
  }

  /**
   * Takes (atomically, so one worker has each) up to `limit` retries of `queue` that were due before `dueBefore`
   * and have not started anywhere. Empty when Redis is off or away.
   */
  async takeOverdueRetries(queue: string, dueBefore: number, limit: number): Promise<Array<{ member: string; message: RescuedMessage }>> {
    if (this.#redis === undefined || !this.#usable()) return [];
    const keys = rescueKeys(this.#prefix, queue);
    try {
      const flat = await this.#redis.nightshiftTakeOverdue(keys.due, keys.bodies, dueBefore, limit);
      const taken: Array<{ member: string; message: RescuedMessage }> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const message = readRescued(flat[i + 1] as string);
        if (message !== undefined) taken.push({ member: flat[i] as string, message });
      }
      return taken;
    } catch (error) {
      // A background look: its timeout on a busy host must not make the tasks' checks rest (the next sweep looks again).
      this.#log.debug({ err: { message: (error as Error).message }, queue }, 'looking for overdue retries failed');
      return [];
    }
  }

  /** Puts back a retry taken by `takeOverdueRetries` whose resend failed, due at once. Never throws. */
  async returnOverdueRetry(queue: string, member: string, message: RescuedMessage): Promise<void> {
    if (this.#redis === undefined || !this.#usable()) return;
    const keys = rescueKeys(this.#prefix, queue);
    try {
      await this.#redis.nightshiftExpectRetry(keys.due, keys.bodies, 0, member, JSON.stringify(message));
    } catch (error) {
      this.#failed('write', error);
    }
  }

  /** Closes the Redis connection, once no check or write is under way. */
  async close(): Promise<void> {
    clearInterval(this.#renewal);
    this.#upGauge.removeCallback(this.#observeUp);
    const redis = this.#redis;
    if (redis === undefined) return;
    redis.removeAllListeners('close');
    // Called once the worker's attempts are done, so no write is under way: nothing to wait for (a QUIT to a
    // Redis that stopped answering would wait forever).
    redis.disconnect();
  }

  /** Extends the lease of every claim held, in one call. A claim another worker took (the lease ran out first) is said once. */
  async #renew(): Promise<void> {
    const redis = this.#redis;
    if (redis === undefined || this.#claims.size === 0 || !this.#usable()) return;
    const claims = [...this.#claims];
    try {
      const lost = await redis.nightshiftRenew(claims.length, ...claims, this.#holder, this.#leaseMs);
      for (const claim of lost) {
        if (!this.#claims.delete(claim)) continue;
        this.#log.warn({ claim, leaseMs: this.#leaseMs },
          'the claim of an attempt running here expired before it was renewed (this worker stalled, or Redis was away) and another worker took it: that attempt may run there too (at-least-once)');
      }
    } catch (error) {
      this.#failed('write', error);
    }
  }

  #usable(): boolean {
    return this.#redis?.status === 'ready' && Date.now() >= this.#restUntil;
  }

  #failed(operation: 'check' | 'write', error: unknown, count = 1): void {
    this.#skipped.add(count, { operation });
    // A connection that looks fine but does not answer: leave it alone a moment rather than make every task wait.
    this.#restUntil = Date.now() + REST_MS;
    this.#unreachable(`a ${operation} failed: ${(error as Error).message}`);
  }

  #reached(): void {
    if (this.#reachable === false) this.#log.info({ redis: this.#redisUrl }, 'completion records: Redis is reachable again; duplicates of finished attempts are acknowledged without running');
    this.#reachable = true;
  }

  #unreachable(why: string): void {
    if (this.#reachable === false) return;
    this.#reachable = false;
    this.#log.warn({ redis: this.#redisUrl, why, timeoutMs: this.#timeoutText() },
      'completion records: Redis is unavailable, so duplicates are not suppressed: a duplicate of an attempt finished on another worker runs again (at-least-once) until Redis is back');
  }

  #timeoutText(): string {
    const timeout = this.#redis?.options.commandTimeout;
    return timeout === undefined ? '—' : formatDuration(timeout);
  }
}

function readRecord(value: string): CompletionRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { outcome: 'unknown', worker: undefined, at: undefined };
  }
  const fields = typeof parsed === 'object' && parsed !== null ? parsed as Record<string, unknown> : {};
  const outcome = fields.outcome === 'succeeded' || fields.outcome === 'retried' || fields.outcome === 'dead_lettered' ? fields.outcome : 'unknown';
  return { outcome, worker: typeof fields.worker === 'string' ? fields.worker : undefined, at: typeof fields.at === 'string' ? fields.at : undefined };
}
