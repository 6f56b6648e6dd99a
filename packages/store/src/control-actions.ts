import type { Store } from './store.ts';

export type ControlVia = 'dashboard' | 'api' | 'cli';
export type ControlActionOutcome = 'ok' | 'refused' | 'no-reply';

/** A control taken, as recorded before it is shown. */
export interface ControlActionInput {
  /** Who: the dashboard user, the API token's principal, or the CLI's login name. */
  readonly actor: string;
  readonly via: ControlVia;
  readonly action: string;
  /** The worker it was sent to; `null` for a broadcast to every worker. */
  readonly worker: string | null;
  readonly args: Readonly<Record<string, unknown>>;
  readonly outcome: ControlActionOutcome;
  /** What the workers answered. */
  readonly replies: readonly unknown[];
}

export interface ControlAction extends ControlActionInput {
  readonly id: string;
  /** ISO 8601. */
  readonly at: string;
}

/** The largest page of `ControlActions.list`. */
export const MAX_CONTROL_ACTION_PAGE = 500;

interface Row {
  id: string; at: Date; actor: string; via: ControlVia; action: string; worker: string | null;
  args: Record<string, unknown>; outcome: ControlActionOutcome; replies: unknown[];
}

/** The `control_actions` table: the audit trail of worker controls and revokes (who, when, what, the answer). */
export class ControlActions {
  readonly #store: Store;
  readonly #table: string;

  constructor(store: Store) {
    this.#store = store;
    this.#table = store.table('control_actions');
  }

  async record(input: ControlActionInput): Promise<ControlAction> {
    const { rows } = await this.#store.query<Row>(
      `INSERT INTO ${this.#table} (actor, via, action, worker, args, outcome, replies) VALUES ($1, $2, $3, $4, $5, $6, $7)
        RETURNING id, at, actor, via, action, worker, args, outcome, replies`,
      [input.actor, input.via, input.action, input.worker, JSON.stringify(input.args), input.outcome, JSON.stringify(input.replies)],
    );
    return view(rows[0] as Row);
  }

  /** Newest first; `worker` keeps that worker's actions and the broadcasts that reached every worker. */
  async list(options: { worker?: string; limit?: number } = {}): Promise<ControlAction[]> {
    const limit = Math.min(MAX_CONTROL_ACTION_PAGE, Math.max(1, options.limit ?? 50));
    const { rows } = options.worker === undefined
      ? await this.#store.query<Row>(`SELECT * FROM ${this.#table} ORDER BY at DESC, id DESC LIMIT $1`, [limit])
      : await this.#store.query<Row>(`SELECT * FROM ${this.#table} WHERE worker = $1 OR worker IS NULL ORDER BY at DESC, id DESC LIMIT $2`, [options.worker, limit]);
    return rows.map(view);
  }
}

function view(row: Row): ControlAction {
  return {
    id: String(row.id), at: row.at.toISOString(), actor: row.actor, via: row.via, action: row.action, worker: row.worker,
    args: row.args, outcome: row.outcome, replies: row.replies,
  };
}
