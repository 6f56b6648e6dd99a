import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { DeadLetters, migrate, quoteIdent, Store, type DeadLetterInput } from '@nightshift/store';

/** A store in its own random schema; `cleanup` drops the schema and closes the pool. */
export async function testStore(options: { migrated?: boolean } = {}): Promise<{ store: Store; deadLetters: DeadLetters; cleanup: () => Promise<void> }> {
  const { databaseUrl } = await requireServices('postgres');
  const store = new Store({ url: databaseUrl, schema: randomPrefix('store') });
  if (options.migrated !== false) await migrate(store);
  return {
    store,
    deadLetters: new DeadLetters(store),
    cleanup: async () => {
      await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(store.schema)} CASCADE`).catch(() => {});
      await store.close();
    },
  };
}

let counter = 0;

/** A dead letter of a real task envelope, as the alerter would read it. */
export function deadLetterInput(overrides: Partial<DeadLetterInput> & { envelope?: Record<string, unknown> } = {}): DeadLetterInput {
  counter += 1;
  const { envelope: envelopeOverrides, ...rest } = overrides;
  const envelope = {
    v: 1, id: `task-${counter}-${Date.now()}`, task: 'reports.generate', args: ['usage', { password: 'hunter2' }], kwargs: {},
    attempt: 3, maxAttempts: 3, queue: 'reports', sentAt: new Date().toISOString(), origin: { type: 'producer', producer: 'test' },
    ...envelopeOverrides,
  };
  const deadAt = new Date().toISOString();
  return {
    messageId: envelope.id as string,
    deathMark: deadAt,
    task: envelope.task as string,
    queue: envelope.queue as string,
    args: envelope.args as unknown[],
    kwargs: envelope.kwargs as Record<string, unknown>,
    reason: 'failed',
    error: { name: 'TimeoutError', message: 'the report service did not answer', code: 'ETIMEDOUT', stack: 'TimeoutError: the report service did not answer\n    at run (app.ts:1:1)' },
    attempts: 3,
    worker: 'worker@test',
    firstFailedAt: deadAt,
    lastFailedAt: deadAt,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-nightshift-reason': 'failed' },
    properties: { messageId: envelope.id, contentType: 'application/json' },
    body: Buffer.from(JSON.stringify(envelope)),
    ...rest,
  };
}
