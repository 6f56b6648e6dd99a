import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the demo API's slow answers wait for. */
export interface DemoApiOptions {
  /** How long `/slow` waits before answering, unless `?ms=` says otherwise. Default: `5000`. */
  slowMs?: number;
  /** How long the CRM waits before answering for a user whose id starts with `slow-`. Default: `30000`. */
  crmSlowMs?: number;
}

/** A running demo API: health-check targets and a fake CRM, on a loopback port. */
export interface DemoApi {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

/** The user record the fake CRM serves at `GET /crm/users/:id`. */
export interface CrmUser {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  plan: 'free' | 'team' | 'enterprise';
  updatedAt: string;
}

const PLANS = ['free', 'team', 'enterprise'] as const;

/**
 * Starts the demo API on an ephemeral loopback port:
 * - `GET /healthy` → 200; `GET /broken` → 500; `GET /slow?ms=N` → 200 after N ms.
 * - `GET /crm/users/:id` → a user made up from the id; ids starting with `slow-` answer after
 *   `crmSlowMs`, `missing-` → 404, `flaky-` → 503.
 * The server does not keep the process alive on its own.
 */
export async function startDemoApi(options: DemoApiOptions = {}): Promise<DemoApi> {
  const slowMs = options.slowMs ?? 5_000;
  const crmSlowMs = options.crmSlowMs ?? 30_000;
  const server = createServer((request, response) => {
    route(request, response, { slowMs, crmSlowMs });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Slow answers in flight would otherwise hold `close` for their whole delay.
      server.closeAllConnections();
    }),
  };
}

function route(request: IncomingMessage, response: ServerResponse, delays: Required<DemoApiOptions>): void {
  const url = new URL(request.url ?? '/', 'http://demo.invalid');
  if (request.method !== 'GET') return json(response, 405, { error: 'method not allowed' });
  if (url.pathname === '/healthy') return json(response, 200, { status: 'ok' });
  if (url.pathname === '/broken') return json(response, 500, { status: 'error', error: 'database connection refused' });
  if (url.pathname === '/slow') {
    const ms = Number(url.searchParams.get('ms') ?? delays.slowMs);
    return later(request, response, Number.isFinite(ms) ? ms : delays.slowMs, () => json(response, 200, { status: 'ok', slow: true }));
  }
  const crm = /^\/crm\/users\/([^/]+)$/.exec(url.pathname);
  if (crm) {
    const id = decodeURIComponent(crm[1] as string);
    if (id.startsWith('missing-')) return json(response, 404, { error: `no user ${id}` });
    if (id.startsWith('flaky-')) return json(response, 503, { error: 'CRM is overloaded, try again' });
    const delay = id.startsWith('slow-') ? delays.crmSlowMs : 0;
    return later(request, response, delay, () => json(response, 200, crmUser(id)));
  }
  json(response, 404, { error: `no route ${url.pathname}` });
}

/** Answers after `ms`, unless the client hangs up first (a timed-out caller must not leave a timer behind). */
function later(request: IncomingMessage, response: ServerResponse, ms: number, answer: () => void): void {
  if (ms <= 0) return answer();
  const timer = setTimeout(answer, ms);
  response.once('close', () => clearTimeout(timer));
  request.resume();
}

function crmUser(id: string): CrmUser {
  const [first = id, last = 'Doe'] = id.replace(/^slow-/, '').split(/[-_.]/);
  const hash = [...id].reduce((sum, char) => (sum * 31 + char.charCodeAt(0)) >>> 0, 7);
  return {
    id,
    firstName: capitalize(first),
    lastName: capitalize(last),
    // Untidy on purpose, like real CRM data: users.sync normalizes it.
    email: `  ${first}.${last}@Example.COM `,
    plan: PLANS[hash % PLANS.length] as CrmUser['plan'],
    updatedAt: new Date(Date.UTC(2024, 0, 1) + (hash % 365) * 86_400_000).toISOString(),
  };
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
