import { defineTask, parseDuration, PermanentError, type Duration, type TaskContext } from '@nightshift/core';
import { apiBaseUrl } from './resources.ts';
import { DEFAULT_HEALTH_ENDPOINTS, type FactorySettings, type HealthEndpoint } from './settings.ts';

export interface EndpointHealth {
  readonly name: string;
  readonly url: string;
  /** `up`: a 2xx answer in time; `down`: any other answer, or no connection; `timeout`: no full answer in time. */
  readonly status: 'up' | 'down' | 'timeout';
  /** The HTTP status, when an answer came. */
  readonly httpStatus?: number;
  /** Time to the full answer, or to the failure. */
  readonly latencyMs: number;
  readonly error?: string;
}

export interface HealthReport {
  readonly up: number;
  readonly down: number;
  readonly timedOut: number;
  readonly endpoints: readonly EndpointHealth[];
}

export interface CheckHealthOptions {
  /** Per-request time limit. Default: `'2s'`. */
  timeout?: number | string;
}

/** `apis.checkHealth({ timeout })`: checks every endpoint at once, each within its own timeout. */
export function checkHealthTask(settings: FactorySettings) {
  return defineTask({
    name: 'apis.checkHealth',
    queue: 'monitoring',
    softTimeLimit: '30s',
    timeLimit: '45s',
    // Runs every minute: the next run is the retry.
    retry: { maxRetries: 0 },
    async run(ctx, { timeout = '2s' }: CheckHealthOptions = {}): Promise<HealthReport> {
      const timeoutMs = readTimeout(timeout);
      const base = await apiBaseUrl(settings);
      const endpoints = (settings.healthEndpoints ?? DEFAULT_HEALTH_ENDPOINTS).map((endpoint) => ({ ...endpoint, url: new URL(endpoint.url, `${base}/`).href }));
      const results = await Promise.all(endpoints.map((endpoint) => checkEndpoint(ctx, endpoint, timeoutMs)));
      // Cut short by the soft time limit (or a revoke): the results would wrongly blame the endpoints.
      ctx.signal.throwIfAborted();
      for (const result of results) {
        if (result.status !== 'up') ctx.log.warn({ ...result }, `endpoint ${result.name} is ${result.status}`);
      }
      return {
        up: results.filter((r) => r.status === 'up').length,
        down: results.filter((r) => r.status === 'down').length,
        timedOut: results.filter((r) => r.status === 'timeout').length,
        endpoints: results,
      };
    },
  });
}

async function checkEndpoint(ctx: TaskContext, endpoint: HealthEndpoint, timeoutMs: number): Promise<EndpointHealth> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timer = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(endpoint.url, { signal: AbortSignal.any([timer, ctx.signal]), redirect: 'manual' });
    // The body is part of the answer: a server that stalls mid-body is not healthy either.
    await response.arrayBuffer();
    const up = response.status >= 200 && response.status < 300;
    return { ...endpoint, status: up ? 'up' : 'down', httpStatus: response.status, latencyMs: elapsed(), ...(up ? {} : { error: `HTTP ${response.status}` }) };
  } catch (error) {
    if (timer.aborted && !ctx.signal.aborted) return { ...endpoint, status: 'timeout', latencyMs: elapsed(), error: `no answer within ${timeoutMs}ms` };
    return { ...endpoint, status: 'down', latencyMs: elapsed(), error: describe(error) };
  }
}

function readTimeout(timeout: Duration): number {
  let ms: number;
  try {
    ms = parseDuration(timeout, 'apis.checkHealth timeout');
  } catch (error) {
    throw new PermanentError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (ms <= 0) throw new PermanentError(`apis.checkHealth timeout: ${JSON.stringify(timeout)} must be more than 0`);
  return ms;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch reports "fetch failed" and puts the reason (ECONNREFUSED, …) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
