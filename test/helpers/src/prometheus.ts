import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/** Debian's package; `PROMETHEUS_BIN` picks another. */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

/** A scrape job: its `host:port` targets, or its targets and a metrics path other than `/metrics`. */
export type ScrapeJob = readonly string[] | { readonly targets: readonly string[]; readonly metricsPath: string };

export interface PrometheusOptions {
  /** Job name → what to scrape. */
  readonly jobs: Readonly<Record<string, ScrapeJob>>;
  /** Rule files to load, as they are. Default: none. */
  readonly ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval, e.g. `'1s'` or `'500ms'`. Default: `'1s'`. */
  readonly interval?: string;
}

/** One series of an answer: its labels and its sample (`value`, instant queries) or samples (`values`). */
export interface PromSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly value?: readonly [number, string];
  readonly values?: readonly (readonly [number, string])[];
}

/** A running `prometheus` of a test, asked through its HTTP API. */
export interface Prometheus {
  readonly url: string;
  /** An instant query at `atSeconds` (default: now); throws with Prometheus's error when the expression is invalid. */
  query(expr: string, atSeconds?: number): Promise<PromSeries[]>;
  /** `expr` evaluated every `stepSeconds` from `startSeconds` to `endSeconds`, as the rule evaluator and Grafana do. */
  queryRange(expr: string, startSeconds: number, endSeconds: number, stepSeconds: number): Promise<PromSeries[]>;
  /** Stops it and deletes its data. */
  stop(): Promise<void>;
}

/** Whether the binary is installed (`apt-get install prometheus`; `.ci/run` does it). */
export function prometheusInstalled(): boolean {
  return existsSync(PROMETHEUS_BIN);
}

/**
 * Starts the real `prometheus` on a free loopback port with a config of its own (written as JSON, which is
 * YAML too) and a data directory of its own, and waits until it is ready.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const interval = options.interval ?? '1s';
  const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-prometheus-'));
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: Object.entries(options.jobs).map(([job, scrape]) => ('metricsPath' in scrape
      ? { job_name: job, metrics_path: scrape.metricsPath, static_configs: [{ targets: scrape.targets }] }
      : { job_name: job, static_configs: [{ targets: scrape }] })),
  };
  const configFile = join(dataDir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PROMETHEUS_BIN, [
    `--config.file=${configFile}`, `--storage.tsdb.path=${join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => { log.push(chunk.toString('utf8')); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}: ${log.join('').slice(-2000)}`);
    }
    if (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within 20 s: ${log.join('').slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const api = async (path: string, params: Record<string, string>): Promise<PromSeries[]> => {
    const response = await fetch(`${url}/api/v1/${path}`, { method: 'POST', body: new URLSearchParams(params) });
    const body = await response.json() as { status: string; error?: string; data?: { result: PromSeries[] } };
    if (body.status !== 'success') throw new Error(`prometheus: ${params.query}: ${body.error ?? response.status}`);
    return body.data?.result ?? [];
  };
  return {
    url,
    query: (expr, atSeconds) => api('query', { query: expr, ...(atSeconds === undefined ? {} : { time: String(atSeconds) }) }),
    queryRange: (expr, startSeconds, endSeconds, stepSeconds) =>
      api('query_range', { query: expr, start: String(startSeconds), end: String(endSeconds), step: String(stepSeconds) }),
    stop,
  };
}
