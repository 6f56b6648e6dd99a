import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@nightshift/telemetry';
import { OutboxSender, parseRateLimit, type AlertChannel, type AlertOutboxPort, type OutboxEntryLike } from '@nightshift/alerts';

/** The outbox contract in memory, for the sender's own rules (the store's table is tested in packages/store). */
function memoryOutbox(entries: Array<{ id: string; channel: string }>) {
  const rows = entries.map((e) => ({ ...e, alert: { kind: 'summary', task: 't', errorClass: 'E', count: 1, total: 2, since: '', until: '', lastMessage: null, firstDeadLetterId: '1', lastDeadLetterId: '2', links: {} }, attempts: 0, dueAt: 0, sentAt: 0 as number | 0, locked: false }));
  const port: AlertOutboxPort = {
    async claim(limit) {
      const due = rows.filter((r) => r.sentAt === 0 && !r.locked && r.dueAt <= Date.now()).slice(0, limit);
      for (const row of due) { row.locked = true; row.attempts += 1; }
      return due.map((r): OutboxEntryLike => ({ id: r.id, channel: r.channel, alert: r.alert, attempts: r.attempts }));
    },
    async markSent(id) { const row = rows.find((r) => r.id === id)!; row.sentAt = Date.now(); row.locked = false; },
    async markFailed(id, _error, retryInMs) { const row = rows.find((r) => r.id === id)!; row.locked = false; row.dueAt = Date.now() + retryInMs; },
    async postpone(id, delayMs) { const row = rows.find((r) => r.id === id)!; row.locked = false; row.attempts -= 1; row.dueAt = Date.now() + delayMs; },
    async sentWithin(channel, withinMs) {
      const sent = rows.filter((r) => r.channel === channel && r.sentAt > Date.now() - withinMs);
      return { count: sent.length, oldest: sent.length ? new Date(Math.min(...sent.map((r) => r.sentAt))).toISOString() : null };
    },
  };
  return { port, rows };
}

const logger = createLogger({ service: 'sender-test', level: 'silent' });

test('a rate-limited channel sends its quota and postpones the rest, losing none', async () => {
  const { port, rows } = memoryOutbox(Array.from({ length: 5 }, (_, i) => ({ id: String(i + 1), channel: 'slack' })));
  const sent: string[] = [];
  const slack: AlertChannel = { name: 'slack', async send(_alert, delivery) { sent.push(delivery.id); } };
  const sender = new OutboxSender({ outbox: port, channels: [slack], logger, rateLimits: { slack: parseRateLimit('2/1s', 'test') } });
  await sender.round();
  assert.deepEqual(sent, ['1', '2']);
  assert.ok(rows.slice(2).every((r) => r.sentAt === 0 && r.dueAt > Date.now() && r.attempts === 0), 'postponed, attempt not counted');
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await sender.round();
  assert.deepEqual(sent, ['1', '2', '3', '4']);
});

test('a failing channel keeps the entry and retries it with backoff', async () => {
  const { port, rows } = memoryOutbox([{ id: '1', channel: 'email' }]);
  let failing = true;
  const failures: string[] = [];
  const email: AlertChannel = { name: 'email', async send() { if (failing) throw new Error('SMTP down'); } };
  const sender = new OutboxSender({ outbox: port, channels: [email], logger, retry: { baseMs: 100, maxMs: 200 }, onFailed: (c, e) => failures.push(`${c}: ${e.message}`) });
  assert.equal(await sender.round(), 0);
  assert.deepEqual(failures, ['email: SMTP down']);
  assert.equal(await sender.round(), 0, 'not due yet');
  failing = false;
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(await sender.round(), 1);
  assert.ok((rows[0]?.sentAt ?? 0) > 0);
  assert.equal(rows[0]?.attempts, 2);
});

test('rate limits read <count>/<duration> and name the variable when wrong', () => {
  assert.deepEqual(parseRateLimit('20/1m', 'X'), { max: 20, perMs: 60_000 });
  assert.throws(() => parseRateLimit('fast', 'NIGHTSHIFT_ALERT_RATE_LIMIT'), /NIGHTSHIFT_ALERT_RATE_LIMIT: "fast" is not a rate limit/);
});
