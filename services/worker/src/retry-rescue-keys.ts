import type { Redis } from 'ioredis';
import type { TaskEnvelope } from '@nightshift/core';

/**
 * What is kept of a retry on its way through the ladder, enough to send it again: its encoded envelope (base64)
 * and the Nightshift headers it was parked with (never the broker's own `x-death`).
 */
export interface RescuedMessage {
  readonly task: string;
  readonly body: string;
  readonly headers: Record<string, string | number | boolean>;
}

/** Where a queue's expected retries live in Redis: due times (a sorted set) and their messages (a hash), by `id:attempt`. */
export function rescueKeys(prefix: string, queue: string): { due: string; bodies: string } {
  return { due: `${prefix}:retries-due:${queue}`, bodies: `${prefix}:retries-msg:${queue}` };
}

/** One attempt's entry in those keys. */
export function rescueMember(envelope: Pick<TaskEnvelope, 'id' | 'attempt'>): string {
  return `${envelope.id}:${envelope.attempt}`;
}

// KEYS: due, bodies. ARGV: due at (ms), member, message.
const EXPECT_SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`;
// KEYS: due, bodies. ARGV: due before (ms), how many. Returns member, message, member, message…; each taken once.
const TAKE_SCRIPT = `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local taken = {}
for _, member in ipairs(members) do
  local message = redis.call('HGET', KEYS[2], member)
  redis.call('ZREM', KEYS[1], member)
  redis.call('HDEL', KEYS[2], member)
  if message then
    table.insert(taken, member)
    table.insert(taken, message)
  end
end
return taken`;

export interface RescueCommands {
  nightshiftExpectRetry(due: string, bodies: string, dueAt: number, member: string, message: string): Promise<number>;
  nightshiftTakeOverdue(due: string, bodies: string, dueBefore: number, limit: number): Promise<string[]>;
}

export function defineRescueCommands(redis: Redis): void {
  redis.defineCommand('nightshiftExpectRetry', { numberOfKeys: 2, lua: EXPECT_SCRIPT });
  redis.defineCommand('nightshiftTakeOverdue', { numberOfKeys: 2, lua: TAKE_SCRIPT });
}

/** The headers a resent retry keeps: Nightshift's and the trace context, as plain values. */
export function rescuableHeaders(headers: Record<string, unknown>): Record<string, string | number | boolean> {
  const kept: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!(name.startsWith('x-nightshift-') || name === 'traceparent' || name === 'tracestate')) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') kept[name] = value;
  }
  return kept;
}

export function readRescued(text: string): RescuedMessage | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<RescuedMessage>;
    if (typeof parsed.task !== 'string' || typeof parsed.body !== 'string' || typeof parsed.headers !== 'object' || parsed.headers === null) return undefined;
    return { task: parsed.task, body: parsed.body, headers: parsed.headers };
  } catch {
    return undefined;
  }
}
