import type { Redis } from 'ioredis';
import type { AnyApp, TaskOrigin } from '@nightshift/core';
import { publishEvent, type Client } from '@nightshift/broker';
import { runId, type BeatKeys } from '@nightshift/beat-state';
import type { ScheduleEntry } from '@nightshift/schedule';

/**
 * How long a claim made by a person (run now, backfill) lasts: long enough that a backfill of last week still
 * finds the claims of what it sent, and any beat claim in its range. (Beat's own last an hour by default; older
 * fire times are told sent by the history.)
 */
export const PERSON_CLAIM_TTL_MS = 7 * 86_400_000;

/**
 * A beat claim older than this, never marked sent or missed, whose leader no longer holds the lease, was abandoned:
 * the leader died between claiming the fire time and sending it. Far beyond a lease's life and a publish attempt,
 * so a leader still sending it has long stopped (beat stops the moment its lease is no longer valid).
 */
export const ABANDONED_CLAIM_MS = 60_000;

// KEYS[1]: the claim of one fire time (beat's own key), KEYS[2]: beat's lease. ARGV: the claim record, its TTL in ms,
// now (ms), ABANDONED_CLAIM_MS. Claims the fire time unless it is claimed already. A claim may be taken over when it
// records the fire time as missed (beat claimed it and could not send it), or when beat's leader claimed it and
// died before sending it (no outcome recorded, its lease take is over, and it is old). Returns 1 when claimed, 0
// when it was there.
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, claim = pcall(cjson.decode, current)
  if not ok or type(claim) ~= 'table' then return 0 end
  local abandoned = claim.state == nil and type(claim.token) == 'string' and redis.call('GET', KEYS[2]) ~= claim.token
    and tonumber(claim.claimedAtMs) ~= nil and tonumber(ARGV[3]) - tonumber(claim.claimedAtMs) > tonumber(ARGV[4])
  if claim.state ~= 'missed' and not abandoned then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export type PersonOrigin = 'manual' | 'backfill';

/** What sends one fire time on a person's behalf, claimed in Redis exactly as beat claims it. */
export interface FireSenderParts {
  readonly client: Client<AnyApp>;
  readonly redis: Redis;
  readonly keys: BeatKeys;
  readonly now: () => number;
}

/**
 * Claims a fire time on beat's own key (`BeatKeys.run`), so that neither beat nor another person's run now or
 * backfill sends it too. `false`: it was claimed already (sent, or being sent).
 */
export async function claimFire(parts: FireSenderParts, entry: string, fireMs: number, origin: PersonOrigin, by: string): Promise<boolean> {
  const record = JSON.stringify({ by, origin, state: 'claimed', claimedAt: new Date(parts.now()).toISOString() });
  const claimed = await parts.redis.eval(CLAIM, 2, parts.keys.run(entry, fireMs), parts.keys.lease, record, PERSON_CLAIM_TTL_MS, parts.now(), ABANDONED_CLAIM_MS);
  return Number(claimed) === 1;
}

/**
 * Sends a claimed fire time with the id beat would give it (`runId`), announces it (`beat.dispatched` with its
 * origin and who), and records the outcome on the claim. A send that fails marks the claim missed (a later backfill
 * may send it) and throws.
 */
export async function sendFire(parts: FireSenderParts, entry: ScheduleEntry, fireMs: number, origin: PersonOrigin, by: string): Promise<string> {
  const id = runId(entry.name, fireMs);
  const scheduledFor = new Date(fireMs).toISOString();
  const taskOrigin: TaskOrigin = { type: origin, beat: entry.name, scheduledFor, by };
  const key = parts.keys.run(entry.name, fireMs);
  const mark = (outcome: Record<string, unknown>) =>
    parts.redis.set(key, JSON.stringify({ by, origin, ...outcome, at: new Date(parts.now()).toISOString() }), 'KEEPTTL', 'XX').catch(() => undefined);
  try {
    // By name, with the entry's validated args: the client was made with the app, which resolves the task's settings.
    await parts.client.send(entry.task as never, entry.args as never, {
      id,
      origin: taskOrigin,
      kwargs: { ...entry.kwargs },
      ...(entry.queue !== undefined ? { queue: entry.queue } : {}),
      ...(entry.expires !== undefined ? { expires: entry.expires } : {}),
    });
  } catch (error) {
    await mark({ state: 'missed', reason: 'unsent', error: (error as Error).message });
    throw error;
  }
  // Beat's overlap policy reads it at once; the task history may take a moment to show the run.
  await parts.redis.hset(parts.keys.personSent, entry.name, JSON.stringify({ id, sentAtMs: parts.now() })).catch(() => undefined);
  await publishEvent(parts.client.broker, 'beat.dispatched', {
    entry: entry.name, task: entry.task, id, scheduledFor, lagMs: parts.now() - fireMs, attempts: 1, origin, by,
  });
  await mark({ state: 'sent', id });
  return id;
}
