import { parseBrokerUrls, redactUrl, type Logger } from '@nightshift/core';

/** Messages per second into and out of one queue, as RabbitMQ's management plugin measures them. */
export interface QueueRates {
  readonly publish: number;
  readonly deliver: number;
}

interface QueueRow {
  readonly name?: unknown;
  readonly message_stats?: {
    readonly publish_details?: { readonly rate?: unknown };
    readonly deliver_get_details?: { readonly rate?: unknown };
  };
}

/** After a failed read, how long to go on estimating before asking the management API again. */
const RETRY_AFTER_MS = 60_000;

/**
 * Reads publish and deliver rates from RabbitMQ's management API (AMQP itself has no rates): one request
 * per poll for every queue of the vhost, with only the columns needed. While the API cannot be read (the
 * plugin is off, wrong credentials) it answers `undefined`, says so once, and asks again a minute later;
 * the poller then estimates from depths and `task.received` events.
 */
export class ManagementRates {
  readonly #endpoint: string;
  readonly #authorization: string | undefined;
  readonly #logger: Logger;
  readonly #shown: string;
  #retryAtMs = 0;
  #failing = false;

  /** @param url the management API's base, credentials in it (e.g. `http://guest:guest@rabbitmq:15672`). */
  constructor(url: string, vhost: string, logger: Logger) {
    const base = new URL(url);
    this.#authorization = base.username === ''
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
    base.username = '';
    base.password = '';
    const columns = 'name,message_stats.publish_details.rate,message_stats.deliver_get_details.rate';
    this.#endpoint = `${base.href.replace(/\/$/, '')}/api/queues/${encodeURIComponent(vhost)}?columns=${columns}`;
    this.#shown = redactUrl(url);
    this.#logger = logger;
  }

  /** Rates by full queue name (with prefix), or `undefined` while the API cannot be read. */
  async read(nowMs = Date.now()): Promise<Map<string, QueueRates> | undefined> {
    if (this.#failing && nowMs < this.#retryAtMs) return undefined;
    try {
      const response = await fetch(this.#endpoint, {
        headers: this.#authorization ? { authorization: this.#authorization } : {},
        signal: AbortSignal.timeout(2_000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      const rows = (await response.json()) as QueueRow[];
      const rates = new Map<string, QueueRates>();
      for (const row of Array.isArray(rows) ? rows : []) {
        if (typeof row.name !== 'string') continue;
        rates.set(row.name, { publish: rate(row.message_stats?.publish_details?.rate), deliver: rate(row.message_stats?.deliver_get_details?.rate) });
      }
      if (this.#failing) this.#logger.info({ managementApi: this.#shown }, 'RabbitMQ management API answers again: queue rates come from the broker');
      this.#failing = false;
      return rates;
    } catch (error) {
      if (!this.#failing) {
        this.#logger.warn(
          { err: { message: (error as Error).message }, managementApi: this.#shown },
          'cannot read queue rates from the RabbitMQ management API; estimating them from depths and events (set NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL, or "off")',
        );
      }
      this.#failing = true;
      this.#retryAtMs = nowMs + RETRY_AFTER_MS;
      return undefined;
    }
  }
}

function rate(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/**
 * Where the management API is unless configured: the AMQP host on port 15672 with the AMQP credentials,
 * which is how RabbitMQ ships it (and how the compose stack runs it). Of a cluster's nodes, the first.
 */
export function defaultManagementUrl(amqpUrl: string): { url: string; vhost: string } {
  const amqp = new URL(parseBrokerUrls(amqpUrl)[0] as string);
  const url = new URL(`${amqp.protocol === 'amqps:' ? 'https' : 'http'}://${amqp.hostname}:15672`);
  url.username = amqp.username || 'guest';
  url.password = amqp.password || 'guest';
  const vhost = amqp.pathname.length > 1 ? decodeURIComponent(amqp.pathname.slice(1)) : '/';
  return { url: url.href, vhost };
}
