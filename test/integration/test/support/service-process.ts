import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually } from '@nightshift/test-helpers';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A Nightshift service run as its own process (its `src/main.ts`, as `nightshift up` runs it), with its JSON log lines. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  /** The first log line that `matches`; fails naming `what` (and the last lines) when the process exits or time runs out first. */
  line(what: string, matches: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  stop(): Promise<void>;
  /** Its last log lines, for failure messages. */
  tail(count?: number): string;
}

/**
 * Starts `script` (a path from the repo's root) on the repo's TypeScript sources: `process.env` (which holds
 * NODE_OPTIONS=--conditions=nightshift:source under npm and npx) and `env` on top.
 */
export function spawnService(label: string, script: string, args: readonly string[], env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [script, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ msg: text });
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push({ msg: `stderr: ${chunk.trim()}` }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const tail = (count = 8) => `${label} pid ${child.pid} (${child.exitCode === null ? 'running' : `exited ${child.exitCode}`}): ${lines.slice(-count).map((l) => String(l.msg)).join(' | ') || 'said nothing'}`;
  return {
    child, lines, exited, tail,
    async line(what, matches, timeoutMs = 30_000) {
      return eventually(`${label}: ${what}`, () => {
        const found = lines.find(matches);
        if (found === undefined && child.exitCode !== null) throw new Error(`${label} exited before ${what}: ${tail()}`);
        return found;
      }, timeoutMs).catch((error: Error) => {
        throw new Error(`${error.message}; ${tail()}`);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's lines as JSON (what `--json` prints). */
  records(): Record<string, unknown>[];
}

/** `nightshift <argv>` as a process (packages/cli/src/main.ts, what bin/nightshift.js runs in the repo). */
export function runCli(argv: readonly string[], env: Record<string, string>): Promise<CliResult> {
  const child = spawn(process.execPath, ['packages/cli/src/main.ts', ...argv], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({
      code, stdout, stderr,
      records: () => stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>),
    }));
  });
}
