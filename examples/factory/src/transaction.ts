import type { Pool, PoolClient } from 'pg';

export interface TransactionOptions {
  /** Aborting it cancels the transaction. Default: none. */
  signal?: AbortSignal | undefined;
  /** Default: `'read committed'`. */
  isolation?: keyof typeof ISOLATION;
}

const ISOLATION = { 'read committed': 'READ COMMITTED', 'repeatable read': 'REPEATABLE READ', serializable: 'SERIALIZABLE' } as const;

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT if it returns, ROLLBACK if it throws.
 *
 * When `signal` aborts (the soft time limit, a revoke, shutdown), the statement running at that moment
 * is cancelled on the server, the transaction is rolled back, and the call rejects with `signal.reason`,
 * so a task can tell its own failure from being cut short.
 */
export async function inTransaction<T>(pool: Pool, options: TransactionOptions, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const { signal, isolation = 'read committed' } = options;
  signal?.throwIfAborted();
  const client = await pool.connect();
  let broken: Error | undefined;
  let cancel: (() => void) | undefined;
  let cancelled = false;
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${ISOLATION[isolation]}`);
    if (signal !== undefined) {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const pid = rows[0]?.pid;
      cancel = () => {
        // A statement that is running does not notice the signal; ask the server to cancel it.
        cancelled = true;
        pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
      };
      signal.addEventListener('abort', cancel, { once: true });
      signal.throwIfAborted();
    }
    const result = await work(client);
    signal?.throwIfAborted();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // A connection that cannot roll back is not handed to the next task.
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    if (cancel !== undefined) signal?.removeEventListener('abort', cancel);
    // A cancel request may land late; never let it hit the next task's statement on this connection.
    client.release(broken ?? (cancelled ? new Error('statement cancelled on abort') : undefined));
  }
}
