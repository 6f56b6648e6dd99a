import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BeatKeys } from '@nightshift/beat-state';
import type { Lease } from './lease.ts';
import type { StrandedClaim } from './run-journal.ts';
import { LedgerMemory } from './ledger-memory.ts';
import { Batcher } from './batch.ts';
import { RedisScript } from './redis-script.ts';

// Every write is fenced by the lease: it happens only while the lease key holds this replica's token, in
// the same atomic script, so a paused old leader that wakes up after a handover cannot claim anything.
const FENCE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'not-leader' end`;

/**
 * KEYS: lease, last-run. ARGV: token, then for each entry its name and fire time (ms). Moves each watermark forward,
 * never back. Returns 'ok' or 'not-leader' (for all of them).
 */
const ADVANCE_MANY = new RedisScript(`${FENCE}
for at = 2, #ARGV, 2 do
  local last = tonumber(redis.call('HGET', KEYS[2], ARGV[at]))
  if not last or tonumber(ARGV[at + 1]) > last then redis.call('HSET', KEYS[2], ARGV[at], ARGV[at + 1]) end
end
return 'ok'`);

/**
 * Claims runs: each is `handled` when its fire time is at or before its entry's watermark, or its claim key exists;
 * otherwise its claim is set (with a TTL), it joins the unsent set and, unless it is claimed ahead of its fire time,
 * the watermark moves to it, `claimed`. KEYS: lease, last-run, unsent, then each run's claim. ARGV: token, claim TTL
 * (ms), now (ms), then for each run its entry, fire time (ms), claim record and '1' to move the watermark ('' not to).
 * Returns one result per run, or 'not-leader'.
 */
const CLAIM_MANY = new RedisScript(`${FENCE}
local results = {}
for i = 4, #KEYS do
  local at = 4 + (i - 4) * 4
  local entry, fire = ARGV[at], tonumber(ARGV[at + 1])
  local last = tonumber(redis.call('HGET', KEYS[2], entry))
  if last and fire <= last then
    results[#results + 1] = 'handled'
  elseif not redis.call('SET', KEYS[i], ARGV[at + 2], 'NX', 'PX', ARGV[2]) then
    results[#results + 1] = 'handled'
  else
    if ARGV[at + 3] == '1' then redis.call('HSET', KEYS[2], entry, ARGV[at + 1]) end
    redis.call('ZADD', KEYS[3], ARGV[3], ARGV[at + 1] .. '|' .. entry)
    results[#results + 1] = 'claimed'
  end
end
return results`);

/**
 * Undoes claims made ahead of their fire time (`RunLedger.unclaim`) that were neither sent nor counted: each claim is
 * deleted only while it is still this leader's and has no outcome, and the run leaves the unsent set. (A claim made
 * ahead did not move the watermark.) KEYS: lease, unsent, then each run's claim. ARGV: token, then for each run its
 * entry and fire time (ms). Returns 'ok' or 'not-leader' (for all of them).
 */
const UNCLAIM_MANY = new RedisScript(`${FENCE}
for i = 3, #KEYS do
  local at = 2 + (i - 3) * 2
  local raw = redis.call('GET', KEYS[i])
  local ok, claim = pcall(cjson.decode, raw or '')
  if ok and type(claim) == 'table' and claim.token == ARGV[1] and claim.state == nil then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[2], ARGV[at + 1] .. '|' .. ARGV[at])
  end
end
return 'ok'`);

/**
 * KEYS: unsent, then runs' claims. ARGV: for each, what to record on it and its member of unsent. Replaces each
 * claim's record, keeping its TTL (none is created), and takes the run out of the unsent set.
 */
const RECORD_MANY = new RedisScript(`for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[(i - 1) * 2 - 1], 'KEEPTTL', 'XX')
  redis.call('ZREM', KEYS[1], ARGV[(i - 1) * 2])
end
return 'ok'`);

/**
 * Finds where entries start. KEYS: lease, last-run, epoch. ARGV: token, a new epoch, then for each entry its name,
 * now (ms), the epoch this replica knew it in ('' if none) and the watermark this replica can prove for it (''
 * if none). Creates the epoch if Redis has none. Returns, per entry, state, watermark and epoch one after another:
 * `kept` (Redis has the entry), `new` (an entry never seen: it starts from now) or `lost` (Redis lost it since this
 * replica knew it under another epoch: it restarts from the proven watermark, else from now). Or 'not-leader'.
 */
const START_MANY = new RedisScript(`${FENCE}
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[3], epoch)
end
local results = {}
for at = 3, #ARGV, 4 do
  local entry = ARGV[at]
  local last = redis.call('HGET', KEYS[2], entry)
  if last then
    results[#results + 1] = 'kept'
    results[#results + 1] = last
  else
    local from = ARGV[at + 1]
    local state = 'new'
    if ARGV[at + 2] ~= '' and ARGV[at + 2] ~= epoch then
      state = 'lost'
      if ARGV[at + 3] ~= '' then from = ARGV[at + 3] end
    end
    redis.call('HSET', KEYS[2], entry, from)
    results[#results + 1] = state
    results[#results + 1] = from
  end
  results[#results + 1] = epoch
end
return results`);

/** How an entry's watermark was found when a leader starts dispatching it. */
export type StartState =
  | { readonly state: 'kept' | 'new'; readonly lastMs: number }
  /**
   * Redis lost beat's state since this replica last knew the entry. `proven`: the watermark this replica can
   * prove (it wrote it while leading); the entry continues from it. `unproven`: the newest watermark it only
   * read (runs after it may or may not have been sent), or none; the entry continues from now.
   */
  | { readonly state: 'lost'; readonly lastMs: number; readonly proven?: number; readonly unproven?: number };

export type ClaimResult = 'claimed' | 'handled' | 'not-leader';

/**
 * Beat's state in Redis. The last-run watermark of each entry (the newest fire time handled) is what a
 * restarted or new leader continues from; each run is claimed once by `(entry, fire time)`, and a claim
 * also moves the watermark, so no later leader can claim that run or any before it.
 */
export class RunLedger {
  readonly #redis: Redis;
  readonly #keys: BeatKeys;
  readonly #lease: Lease;
  readonly #claimTtlMs: number;
  readonly #replica: string;
  readonly #memory = new LedgerMemory();
  /**
   * Set once this leader has declared the beat journal (`RunJournal`): its claims from then on say so, and a next
   * leader may look them up there. Default: `false`.
   */
  journaled = false;
  // The claims and watermarks of one boundary, and the starts of a new leader's entries, go to Redis in batches.
  readonly #starts = new Batcher<{ entry: string; nowMs: number; knownEpoch: string; proven: string }, [string, string, string] | 'not-leader'>((items) => this.#startMany(items));
  readonly #claims = new Batcher<{ entry: string; scheduledForMs: number; record: string; moves: boolean }, ClaimResult>((items) => this.#claimMany(items));
  readonly #records = new Batcher<{ key: string; value: string; member: string }, unknown>((items) => this.#recordMany(items));
  readonly #advances = new Batcher<{ entry: string; throughMs: number }, 'ok' | 'not-leader'>((items) => this.#advanceMany(items));
  readonly #unclaims = new Batcher<{ entry: string; scheduledForMs: number }, 'ok' | 'not-leader'>((items) => this.#unclaimMany(items));

  constructor(redis: Redis, keys: BeatKeys, lease: Lease, claimTtlMs: number, replica: string) {
    this.#redis = redis;
    this.#keys = keys;
    this.#lease = lease;
    this.#claimTtlMs = claimTtlMs;
    this.#replica = replica;
  }

  async #startMany(items: readonly { entry: string; nowMs: number; knownEpoch: string; proven: string }[]): Promise<([string, string, string] | 'not-leader')[]> {
    const result = await START_MANY.run(this.#redis, [this.#keys.lease, this.#keys.lastRun, this.#keys.lastRunEpoch],
      [this.#lease.token, randomBytes(8).toString('hex'), ...items.flatMap((item) => [item.entry, item.nowMs, item.knownEpoch, item.proven])]);
    if (result === 'not-leader') return items.map(() => 'not-leader');
    const flat = (result as unknown[]).map(String);
    return items.map((_, i) => flat.slice(i * 3, i * 3 + 3) as [string, string, string]);
  }

  async #advanceMany(items: readonly { entry: string; throughMs: number }[]): Promise<('ok' | 'not-leader')[]> {
    const result = String(await ADVANCE_MANY.run(this.#redis, [this.#keys.lease, this.#keys.lastRun], [this.#lease.token, ...items.flatMap((item) => [item.entry, item.throughMs])]));
    return items.map(() => result as 'ok' | 'not-leader');
  }

  async #unclaimMany(items: readonly { entry: string; scheduledForMs: number }[]): Promise<('ok' | 'not-leader')[]> {
    const keys = [this.#keys.lease, this.#keys.unsent, ...items.map((item) => this.#keys.run(item.entry, item.scheduledForMs))];
    const result = String(await UNCLAIM_MANY.run(this.#redis, keys, [this.#lease.token, ...items.flatMap((item) => [item.entry, item.scheduledForMs])]));
    return items.map(() => result as 'ok' | 'not-leader');
  }

  async #recordMany(items: readonly { key: string; value: string; member: string }[]): Promise<unknown[]> {
    await RECORD_MANY.run(this.#redis, [this.#keys.unsent, ...items.map((item) => item.key)], items.flatMap((item) => [item.value, item.member]));
    return items.map(() => undefined);
  }

  async #claimMany(items: readonly { entry: string; scheduledForMs: number; record: string; moves: boolean }[]): Promise<ClaimResult[]> {
    const keys = [this.#keys.lease, this.#keys.lastRun, this.#keys.unsent, ...items.map((item) => this.#keys.run(item.entry, item.scheduledForMs))];
    const result = await CLAIM_MANY.run(this.#redis, keys, [this.#lease.token, this.#claimTtlMs, Date.now(), ...items.flatMap((item) => [item.entry, item.scheduledForMs, item.record, item.moves ? '1' : ''])]);
    if (result === 'not-leader') return items.map(() => 'not-leader');
    return (result as unknown[]).map((one) => String(one) as ClaimResult);
  }

  /**
   * The entry's watermark. An entry Redis has never seen starts from `nowMs`: a first deploy does not
   * fire anything at once. An entry Redis has lost (see `StartState`) continues from the last run this replica
   * can prove, else from now. `'not-leader'` when the lease is not ours.
   */
  async start(entry: string, nowMs: number): Promise<StartState | 'not-leader'> {
    const known = this.#memory.get(entry);
    const knownEpoch = known?.epoch ?? this.#memory.epoch ?? '';
    const proven = known?.exact === true ? known.ms : undefined;
    const result = await this.#starts.add({ entry, nowMs, knownEpoch, proven: proven === undefined ? '' : String(proven) });
    if (result === 'not-leader') return result;
    const [state, watermark, epoch] = result as [StartState['state'], string, string];
    const lastMs = Number(watermark);
    this.#memory.led(entry, lastMs, epoch);
    if (state !== 'lost') return { state, lastMs };
    return { state, lastMs, ...(proven !== undefined ? { proven } : known !== undefined ? { unproven: known.ms } : {}) };
  }

  /**
   * Claims one run for this replica; `'handled'` if it (or a later run) was claimed or counted already. `ahead`: claimed
   * before its fire time, before its entry was read again (`ChangeFence`): the watermark stays where it is until the
   * run is taken at its time (`taken`), and a next leader that finds it stranded checks the entry when it is due
   * before it sends it (see `StrandedClaim.ahead`).
   */
  async claim(entry: string, scheduledForMs: number, ahead = false): Promise<ClaimResult> {
    // The lease token and the time let a backfill tell a claim whose leader died before sending (see @nightshift/client).
    const claimedAtMs = Date.now();
    const record = JSON.stringify({
      by: this.#replica, token: this.#lease.token, claimedAt: new Date(claimedAtMs).toISOString(), claimedAtMs, ...(this.journaled ? { journaled: true } : {}), ...(ahead ? { ahead: true } : {}),
    });
    const result = await this.#claims.add({ entry, scheduledForMs, record, moves: !ahead });
    if (!ahead) this.#remember(result, entry, scheduledForMs);
    return result;
  }

  /**
   * Undoes a claim made ahead (`claim(…, true)`) whose run will not be sent as claimed (its entry changed, paused or
   * went before it was due): the claim goes, so that the entry's new state decides about that fire time as if it had
   * never been claimed. A claim recorded sent or missed meanwhile stays.
   */
  unclaim(entry: string, scheduledForMs: number): Promise<'ok' | 'not-leader'> {
    return this.#unclaims.add({ entry, scheduledForMs });
  }

  /**
   * A run claimed ahead (`claim(…, true)`) taken at its fire time, to be published now: the watermark moves to it, as a
   * claim made now would have moved it. Remembered at once, as proof of what this replica sent should Redis lose its
   * state; written to Redis (fenced, batched) without holding up the publish.
   */
  taken(entry: string, scheduledForMs: number): void {
    this.#remember('ok', entry, scheduledForMs);
    void this.#advances.add({ entry, throughMs: scheduledForMs }).catch(() => {});
  }

  /** Marks every run up to `throughMs` handled (sent, or counted missed). */
  async advance(entry: string, throughMs: number): Promise<'ok' | 'not-leader'> {
    const result = await this.#advances.add({ entry, throughMs });
    this.#remember(result, entry, throughMs);
    return result;
  }

  /**
   * Reads the watermarks another leader writes (called by a follower on every lease renewal), so that if Redis
   * comes back without them this replica still knows where each entry was.
   */
  async observe(): Promise<void> {
    const [epoch, watermarks] = await Promise.all([this.#redis.get(this.#keys.lastRunEpoch), this.#redis.hgetall(this.#keys.lastRun)]);
    this.#memory.observed(epoch, watermarks);
  }

  #remember(result: string, entry: string, ms: number): void {
    const epoch = this.#memory.epoch;
    if ((result === 'claimed' || result === 'ok') && epoch !== undefined) this.#memory.led(entry, ms, epoch);
  }

  /**
   * The run sent for fire time `scheduledForMs`, as its claim records it (`record`): how a new leader learns
   * what the one before sent last. `undefined` when it was not sent, or its claim expired.
   */
  async lastSent(entry: string, scheduledForMs: number): Promise<{ id: string; sentAt: number } | undefined> {
    const raw = await this.#redis.get(this.#keys.run(entry, scheduledForMs));
    if (raw === null) return undefined;
    try {
      const record = JSON.parse(raw) as { state?: unknown; id?: unknown; sentAt?: unknown; at?: unknown };
      const sentAt = Date.parse(String(record.sentAt ?? record.at));
      return record.state === 'sent' && typeof record.id === 'string' && Number.isFinite(sentAt) ? { id: record.id, sentAt } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records on the claim that the run was sent (or why not), for whoever inspects Redis. Never throws. */
  async record(entry: string, scheduledForMs: number, outcome: Record<string, unknown>): Promise<void> {
    const value = JSON.stringify({ by: this.#replica, ...outcome, at: new Date().toISOString() });
    await this.#records.add({ key: this.#keys.run(entry, scheduledForMs), value, member: `${scheduledForMs}|${entry}` }).catch(() => {});
  }

  /**
   * The runs another leader claimed and then neither sent nor counted (it died between the two), oldest claim
   * first, at most `limit`, each with when it was claimed and whether its leader journalled it (see `RunJournal`).
   * Runs whose claim says they were sent or missed, or whose claim expired, are forgotten.
   */
  async stranded(limit = 10_000): Promise<StrandedClaim[]> {
    const members = await this.#redis.zrange(this.#keys.unsent, 0, String(limit - 1));
    if (members.length === 0) return [];
    const runs = members.map((member) => {
      const bar = member.indexOf('|');
      return { member, entry: member.slice(bar + 1), scheduledForMs: Number(member.slice(0, bar)) };
    });
    const records = await this.#redis.mget(runs.map((run) => this.#keys.run(run.entry, run.scheduledForMs)));
    const out: StrandedClaim[] = [];
    const done: string[] = [];
    runs.forEach((run, i) => {
      const record = parseRecord(records[i] ?? null);
      if (record === undefined || record.state !== undefined) done.push(run.member);
      else if (record.token !== this.#lease.token) {
        const claimedAtMs = typeof record.claimedAtMs === 'number' ? { claimedAtMs: record.claimedAtMs } : {};
        out.push({ entry: run.entry, scheduledForMs: run.scheduledForMs, ...claimedAtMs, journaled: record.journaled === true, ahead: record.ahead === true });
      }
    });
    if (done.length > 0) await this.#redis.zrem(this.#keys.unsent, ...done);
    return out;
  }
}

interface ClaimRecord {
  readonly state?: unknown;
  readonly token?: unknown;
  readonly claimedAtMs?: unknown;
  readonly journaled?: unknown;
  readonly ahead?: unknown;
}

/** A claim's record: `state` once it was sent or missed, `token` of the leader that claimed it. */
function parseRecord(raw: string | null): ClaimRecord | undefined {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as ClaimRecord;
  } catch {
    return undefined;
  }
}
