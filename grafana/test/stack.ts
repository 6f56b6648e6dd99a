// The processes of the proof: services as child processes (each its own /metrics, as in production) and
// Debian's real prometheus scraping them, with deploy/prometheus's rules loaded at a short interval.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { startPrometheus, type Prometheus, type ScrapeJob } from '@nightshift/test-helpers';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RULE_FILES = ['recording.yml', 'alerts.yml'].map((file) => join(REPO_ROOT, 'deploy', 'prometheus', file));

export type ServiceName = 'worker' | 'beat' | 'alerter' | 'health-api';

/** A port free now, for a process that must be told its port before Prometheus's config is written. */

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

interface RuleFile { groups: { name: string; interval?: string; rules: unknown[] }[] }

/**
 * Starts prometheus scraping `jobs` (job name → targets) every `scrapeInterval`, with deploy/prometheus's
 * rule files copied beside it and every group's interval shortened to `scrapeInterval`, so the recording
 * rules have values within seconds, not the production 30s.
 */
export async function startProofPrometheus(jobs: Record<string, ScrapeJob>, scrapeInterval = '1s'): Promise<Prometheus> {
  const rulesDir = mkdtempSync(join(tmpdir(), 'nightshift-proof-rules-'));
  const ruleFiles = RULE_FILES.map((file) => {
    const rules = parse(readFileSync(file, 'utf8')) as RuleFile;
    for (const group of rules.groups) group.interval = scrapeInterval;
    const copy = join(rulesDir, file.split('/').pop() ?? 'rules.yml');
    writeFileSync(copy, stringify(rules));
    return copy;
  });
  try {
    const prometheus = await startPrometheus({ jobs, ruleFiles, interval: scrapeInterval });
    return { ...prometheus, stop: async () => { await prometheus.stop(); rmSync(rulesDir, { recursive: true, force: true }); } };
  } catch (error) {
    rmSync(rulesDir, { recursive: true, force: true });
    throw error;
  }
}
