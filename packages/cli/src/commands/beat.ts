import { resolve } from 'node:path';
import { loadApp, loadConfig } from '@nightshift/core';
import { defineCommand, type Command } from '../command.ts';
import { requireApp } from '../arguments.ts';
import { runService, type RunServiceSettings } from '../run-service.ts';
import { assertScheduleValid } from '../schedule-check.ts';

/** What a test may replace: the repo, the Node and the duplicate-signal window (see `RunServiceSettings`). */
export type BeatCommandSettings = RunServiceSettings;

const options = {
  app: { type: 'string' },
} as const;

const usage = `Usage: nightshift beat --app <path>

Runs one beat replica: the scheduler that sends the app's schedule entries as task messages on time.
Run as many replicas as you like: they compete for a lease in Redis and exactly one dispatches; if it
dies, another takes over within the lease time (5s) and misfire policies catch up what was missed.
Each run is claimed once in Redis, so none is ever sent twice. Without Redis, beat sends nothing.
Logs are JSON lines; metrics are on NIGHTSHIFT_METRICS_PORT (default 9465). Ctrl-C, SIGTERM or SIGHUP (the
terminal closed) stops it, handing the lease over at once; a second Ctrl-C kills it.

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
      const appPath = requireApp(values, 'beat');
      loadConfig(io.env);
      assertScheduleValid(await loadApp(appPath, io.cwd), appPath, 'beat was not started');
      return runService('beat', ['--app', resolve(io.cwd, appPath)], io, settings);
    },
  });
}

export const beat = createBeatCommand();
