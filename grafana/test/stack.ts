// The processes of the proof: services as child processes (each its own /metrics, as in production) and
// Debian's real prometheus scraping them, with deploy/prometheus's rules loaded at a short interval.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RULE_FILES = ['recording.yml', 'alerts.yml'].map((file) => join(REPO_ROOT, 'deploy', 'prometheus', file));
export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export type ServiceName = 'worker' | 'beat' | 'alerter' | 'health-api';

/** A port free now, for a process that must be told its port before Prometheus's config is written. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface ServiceProcess {
  readonly service: ServiceName;
  readonly target: string;
  readonly child: ChildProcess;
  readonly stderr: string[];
}

/** Starts `services/<service>/src/main.ts` with its metrics on `metricsPort`. */
export function spawnService(service: ServiceName, metricsPort: number, env: Record<string, string>, args: string[]): ServiceProcess {
  const main = join(REPO_ROOT, 'services', service, 'src', 'main.ts');
  const child = spawn(process.execPath, [main, ...args], {
    env: { ...process.env, ...env, NIGHTSHIFT_METRICS_PORT: String(metricsPort), NIGHTSHIFT_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => { stderr.push(chunk.toString('utf8')); });
  return { service, target: `127.0.0.1:${metricsPort}`, child, stderr };
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Polls until `check` holds, or throws naming `what`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface RuleFile { groups: { name: string; interval?: string; rules: unknown[] }[] }

export interface PromResult { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }

export interface Prometheus {
  readonly url: string;
  readonly dataDir: string;
  /** An instant query; throws with Prometheus's error when the expression is invalid. */
  query(expr: string): Promise<PromResult[]>;
  /** A range query over the last `seconds`, as a Grafana time series panel runs it. */
  queryRange(expr: string, seconds: number, stepSeconds: number): Promise<PromResult[]>;
  stop(): Promise<void>;
}

/**
 * Starts prometheus scraping `jobs` (job name → targets) every `scrapeInterval`, with deploy/prometheus's
 * rule files copied beside the config and every group's interval shortened to `scrapeInterval`, so the
 * recording rules have values within seconds, not the production 30s.
 */
export async function startPrometheus(jobs: Record<string, string[]>, scrapeInterval = '1s'): Promise<Prometheus> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nightshift-prometheus-'));
  const ruleFiles = RULE_FILES.map((file) => {
    const rules = parse(readFileSync(file, 'utf8')) as RuleFile;
    for (const group of rules.groups) group.interval = scrapeInterval;
    const copy = join(dataDir, file.split('/').pop() ?? 'rules.yml');
    writeFileSync(copy, stringify(rules));
    return copy;
  });
  const config = {
    global: { scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval, evaluation_interval: scrapeInterval },
    rule_files: ruleFiles,
    scrape_configs: Object.entries(jobs).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
  };
  const configFile = join(dataDir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PROMETHEUS_BIN, [
    `--config.file=${configFile}`, `--storage.tsdb.path=${join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => { log.push(chunk.toString('utf8')); });
  try {
    await eventually('prometheus to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${log.join('').slice(-2000)}`);
      return fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    }, 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const api = async (path: string, params: Record<string, string>): Promise<PromResult[]> => {
    const response = await fetch(`${url}/api/v1/${path}`, { method: 'POST', body: new URLSearchParams(params) });
    const body = await response.json() as { status: string; error?: string; data?: { result: PromResult[] } };
    if (body.status !== 'success') throw new Error(`${params.query}: ${body.error ?? response.status}`);
    return body.data?.result ?? [];
  };
  return {
    url, dataDir,
    query: (expr) => api('query', { query: expr }),
    queryRange: (expr, seconds, step) => {
      const end = Date.now() / 1000;
      return api('query_range', { query: expr, start: String(end - seconds), end: String(end), step: String(step) });
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited(child), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
