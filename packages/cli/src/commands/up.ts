import { resolve } from 'node:path';
import { loadApp, loadConfig, parseDuration, redactUrl } from '@nightshift/core';
import { defineCommand, UsageError, type Command } from '../command.ts';
import { findRepoRoot, locateServices } from '../nightshift-services.ts';
import { ServiceOutput, SUPERVISOR_NAME, wantsColor } from '../service-output.ts';
import { Supervisor, type RestartPolicy } from '../supervisor.ts';

export interface UpSettings {
  /** The repo whose `services/<name>/src/main.ts` are run. Default: the repo this CLI belongs to. */
  readonly repoRoot?: string;
  /** The Node that runs the services. Default: `process.execPath` (Node 24, which `bin/nightshift.js` makes sure of). */
  readonly nodePath?: string;
  /** Default: 1 s doubling to 30 s, reset after 60 s up (see `RestartPolicy`). */
  readonly restart?: Partial<RestartPolicy>;
  /**
   * A signal this soon after the first counts as the same Ctrl-C, not a second one: the terminal sends
   * SIGINT to the whole process group and npm and the launcher forward it again. Default: 300 ms.
   */
  readonly duplicateSignalWindowMs?: number;
}

const options = {
  app: { type: 'string' },
  grace: { type: 'string', default: '10s' },
} as const;

const usage = `Usage: nightshift up --app <path> [--grace <duration>]

Runs the Nightshift services of an app in one terminal: worker, beat, alerter and health-api, each
as a child process whose lines are prefixed with its name. A service that exits unexpectedly is
restarted after 1s, doubling up to 30s while it keeps failing. Ctrl-C (or SIGTERM) stops them all:
SIGTERM to each, SIGKILL to any still running after the grace period; a second Ctrl-C kills at once.
The app module and the NIGHTSHIFT_* environment are checked before anything starts.

Options:
      --app <path>         the module whose default export is the app (defineApp); required
      --grace <duration>   how long services may take to stop after SIGTERM (default: 10s)

Examples:
  nightshift up --app examples/factory/app.ts
  NIGHTSHIFT_PREFIX=dev nightshift up --app ./app.ts --grace 30s
  nightshift up --app ./app.ts --json | jq 'select(.event == "restarting")'`;

/** `nightshift up`, with the repo, Node and timings replaceable for tests. */
export function createUpCommand(settings: UpSettings = {}): Command {
  return defineCommand({
    name: 'up',
    summary: 'run every Nightshift service of an app, restarting any that crash',
    usage,
    options,
    async run({ values }, io) {
      if (values.app === undefined) {
        throw new UsageError('"nightshift up" needs --app <path>: the module whose default export is your app', 'e.g. nightshift up --app examples/factory/app.ts');
      }
      const gracePeriodMs = parseDuration(values.grace, '--grace');
      const config = loadConfig(io.env);
      const app = await loadApp(values.app, io.cwd);
      const appPath = resolve(io.cwd, values.app);
      const services = locateServices(settings.repoRoot ?? findRepoRoot());
      const output = new ServiceOutput({
        stdout: io.stdout,
        stderr: io.stderr,
        names: services.map((s) => s.name),
        json: values.json,
        color: !values.json && wantsColor(io.stdout, io.env),
      });

      output.event(SUPERVISOR_NAME, 'app', `app "${app.name}" (${count(app.tasks.length, 'task')}, ${count(app.schedule.length, 'schedule entry', 'schedule entries')}) from ${values.app}; broker ${redactUrl(config.amqpUrl)}, prefix "${config.prefix}"`, {
        app: app.name, appPath, tasks: app.tasks.length, scheduleEntries: app.schedule.length, amqpUrl: redactUrl(config.amqpUrl), prefix: config.prefix,
      });
      for (const missing of services.filter((s) => !s.exists)) {
        output.event(missing.name, 'missing', `not there yet (issue #${missing.issue}: ${missing.folder})`, { issue: missing.issue, path: missing.folder });
      }
      const present = services.filter((s) => s.exists);
      if (present.length === 0) {
        const bringers = services.map((s) => `${s.name} (#${s.issue})`);
        output.event(SUPERVISOR_NAME, 'idle', `nothing is supervised yet: no service exists under services/; the issues for ${bringers.join(', ')} bring them`, {
          issues: services.map((s) => s.issue),
        });
        return 0;
      }

      const supervisor = new Supervisor(
        present.map((s) => ({ name: s.name, command: settings.nodePath ?? process.execPath, args: [s.main, '--app', appPath] })),
        { output, restart: settings.restart, gracePeriodMs, env: io.env, cwd: io.cwd },
      );
      const names = present.map((s) => s.name).join(', ');
      const window = settings.duplicateSignalWindowMs ?? 300;
      let firstSignalAt: number | undefined;
      const stopListening = io.onInterrupt((signal) => {
        const now = Date.now();
        if (firstSignalAt === undefined) {
          firstSignalAt = now;
          output.event(SUPERVISOR_NAME, 'stopping', `${signal}: stopping ${names} (Ctrl-C again kills them at once)`, { signal });
          void supervisor.stop();
        } else if (now - firstSignalAt >= window) {
          output.event(SUPERVISOR_NAME, 'killing', `${signal} again: killing ${names}`, { signal });
          void supervisor.kill();
        }
      });
      try {
        output.event(SUPERVISOR_NAME, 'supervising', `supervising ${names}; Ctrl-C stops them`, { services: present.map((s) => s.name) });
        const { killed } = await supervisor.start();
        if (killed.length > 0) {
          output.event(SUPERVISOR_NAME, 'stopped', `stopped; ${killed.join(', ')} had to be killed`, { killed });
          return 1;
        }
        output.event(SUPERVISOR_NAME, 'stopped', 'all services stopped', { killed });
        return 0;
      } finally {
        stopListening();
      }
    },
  });
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const up = createUpCommand();
