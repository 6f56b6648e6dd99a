import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

/** The deploy/ folder and the repository root. */
export const DEPLOY_DIR = dirname(import.meta.dirname);
export const REPO_ROOT = dirname(DEPLOY_DIR);

/** How to install each outside tool the deploy tests run, for the message when it is missing. */
const INSTALL: Record<string, string> = {
  promtool: "Debian's prometheus package (apt-get install prometheus); .ci/run installs it",
  'docker-compose': "Debian's docker-compose package (apt-get install docker-compose), or the Docker Compose plugin",
};

/** Runs a tool and returns its result; throws one clear line when the tool is not installed. */
export function run(tool: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const result = spawnSync(tool, args, { encoding: 'utf8', cwd: options.cwd ?? DEPLOY_DIR, env: options.env ?? process.env, timeout: 120_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${tool} is not installed: the deploy tests need it (${INSTALL[tool] ?? 'install it'})`);
  }
  if (result.error) throw result.error;
  return result;
}

/** Whether a tool is installed and answers its version question (a `docker` without the compose plugin
 * answers `docker compose version` with exit 125, so the exit status counts, not only that it started). */
export function has(tool: string, versionArgs: readonly string[] = ['--version']): boolean {
  const result = spawnSync(tool, versionArgs, { encoding: 'utf8' });
  return result.error === undefined && result.status === 0;
}

/** Fails with the tool's own output when it did not exit 0. */
export function expectSuccess(result: SpawnSyncReturns<string>, what: string): void {
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
}

export function readYaml(path: string): unknown {
  return parse(readFileSync(path, 'utf8'));
}

export function deployPath(...parts: string[]): string {
  return join(DEPLOY_DIR, ...parts);
}
