import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { loadApp, loadConfig } from '@nightshift/core';
import { defineCommand, UsageError, type Command } from '../command.ts';
import { findRepoRoot, locateServices } from '../nightshift-services.ts';

export interface BeatCommandSettings {
  /** The repo whose `services/beat/src/main.ts` is run. Default: the repo this CLI belongs to. */
  readonly repoRoot?: string;
  /** The Node that runs it. Default: `process.execPath`. */
  readonly nodePath?: string;
  /** A signal this soon after the first is the same Ctrl-C (forwarded again by npm or the launcher), not a second one. Default: 300 ms. */
  readonly duplicateSignalWindowMs?: number;
}

const options = {
  app: { type: 'string' },
} as const;

const usage = `Usage: nightshift beat --app <path>

Runs one beat replica: the scheduler that sends the app's schedule entries as task messages on time.
Run as many replicas as you like: they compete for a lease in Redis and exactly one dispatches; if it
dies, another takes over within the lease time (5s) and misfire policies catch up what was missed.
Each run is claimed once in Redis, so none is ever sent twice. Without Redis, beat sends nothing.
Logs are JSON lines; metrics are on NIGHTSHIFT_METRICS_PORT (default 9465). Ctrl-C (or SIGTERM) stops it,
handing the lease over at once; a second Ctrl-C kills it.

Options:
      --app <path>   the module whose default export is the app (defineApp); required

Examples:
  nightshift beat --app examples/factory/app.ts
  nightshift schedule explain --app examples/factory/app.ts   # what it will send, and when`;

/** `nightshift beat`: runs `services/beat/src/main.ts` (the service's one wiring point) as a child process. */
export function createBeatCommand(settings: BeatCommandSettings = {}): Command {
  return defineCommand({
    name: 'beat',
    summary: 'run a beat replica: sends the app\'s schedule on time, one leader at a time',
    usage,
    options,
    async run({ values }, io) {
      if (values.app === undefined) throw new UsageError('"nightshift beat" needs --app <path>: the module whose default export is your app', 'e.g. nightshift beat --app examples/factory/app.ts');
      loadConfig(io.env);
      await loadApp(values.app, io.cwd);
      const service = locateServices(settings.repoRoot ?? findRepoRoot()).find((s) => s.name === 'beat');
      if (!service?.exists) throw new Error(`beat is not installed here: no ${service?.main ?? 'services/beat/src/main.ts'}`);
      const child = spawn(settings.nodePath ?? process.execPath, [service.main, '--app', resolve(io.cwd, values.app)], {
        cwd: io.cwd,
        env: { ...io.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: a terminal's Ctrl-C reaches it once, through us, not twice.
        detached: true,
      });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => io.stdout.write(chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => io.stderr.write(chunk));
      const window = settings.duplicateSignalWindowMs ?? 300;
      let firstSignalAt: number | undefined;
      const stopListening = io.onInterrupt(() => {
        const now = Date.now();
        if (firstSignalAt === undefined) {
          firstSignalAt = now;
          child.kill('SIGTERM');
        } else if (now - firstSignalAt >= window) {
          child.kill('SIGKILL');
        }
      });
      try {
        return await new Promise<number>((resolveCode, reject) => {
          child.once('error', reject);
          child.once('close', (code, signal) => resolveCode(code ?? (signal === 'SIGKILL' ? 137 : 1)));
        });
      } finally {
        stopListening();
      }
    },
  });
}

export const beat = createBeatCommand();
