import { resolve } from 'node:path';
import { loadApp, loadConfig, parseDuration, redactUrl } from '@nightshift/core';
import { awaitBrokerAccepting } from '../broker-gate.ts';
import { CommandFailure, defineCommand, type Command } from '../command.ts';
import { requireApp } from '../arguments.ts';
import { metricsPorts } from '../metrics-ports.ts';
import { unknownSettingWarnings } from '../unknown-settings.ts';
import { locateServices } from '../nightshift-services.ts';
import { readableDuration } from '../readable-duration.ts';
import { assertScheduleValid } from '../schedule-check.ts';
import { serviceStopGraceMs, stopWithParentFlags, workerGraceMs } from '../service-stop.ts';
import { sourceConditionFlags } from '../source-condition.ts';
import { ServiceOutput, SUPERVISOR_NAME, wantsColor } from '../service-output.ts';
import { Supervisor, type StopResult, type RestartPolicy } from '../supervisor.ts';

export interface UpSettings {
  /** A repo whose `services/<name>/src/main.ts` are run instead. Default: the `main` export of each installed `@nightshift/<name>`. */
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
  /** How long up waits, before starting anything, for a broker that refuses connections. Default: 60 s. */
  readonly brokerWaitMs?: number;
}

const options = {
  app: { type: 'string' },
  grace: { type: 'string' },
} as const;

/**
 * How long up waits for a broker that refuses connections before giving up (nothing started): long enough for
 * a RabbitMQ that is still booting, short enough that a forgotten one is said plainly.
 */
const BROKER_WAIT_MS = 60_000;

/** Every service exits with 2 on a configuration error (see each `services/<name>/src/main.ts`): no restart can fix it. */
const FATAL_EXIT_CODES = { 2: 'a configuration error' };

const usage = `Usage: nightshift up --app <path> [--grace <duration>]

Runs the Nightshift services of an app in one terminal: worker, beat, alerter and health-api, each
as a child process whose lines are prefixed with its name. The app module, its schedule and the shared
NIGHTSHIFT_* settings are checked before anything starts; each service checks its own as it starts, and
one that exits with code 2 (a configuration error) makes up stop the others and exit. A service that
exits otherwise is restarted after 1s, doubling up to 30s while it keeps failing. Ctrl-C, SIGTERM or
closing the terminal (SIGHUP) stops them all: SIGTERM to each, which gives running tasks the worker's
grace (NIGHTSHIFT_WORKER_GRACE, 30s) to finish, then SIGKILL to any still running after the grace
period (--grace; by default that grace plus 5s, for the worker to hand back what is left); a second
Ctrl-C kills at once. If up itself is killed, each service stops on its own.

Before starting anything, up checks that RabbitMQ (NIGHTSHIFT_AMQP_URL) accepts connections. If it refuses
them, up says so, waits up to 60s for it (saying every 10s that it still refuses) and starts the services
once it answers; after that it exits 1 with nothing started. Once the services run, a broker outage is
theirs to ride out: each retries and says so, a line per retry.

Each service serves /metrics on its own port (worker 9464, beat 9465, alerter 9466, health-api 9467);
NIGHTSHIFT_WORKER_METRICS_PORT, NIGHTSHIFT_BEAT_METRICS_PORT, NIGHTSHIFT_ALERTER_METRICS_PORT and
NIGHTSHIFT_HEALTH_API_METRICS_PORT move them. NIGHTSHIFT_METRICS_PORT would give them all one port, so
up accepts it only as 0 (each picks a free port).

Options:
      --app <path>         the module whose default export is the app (defineApp); required
      --grace <duration>   how long services may take to stop after SIGTERM (default: the worker's
                           grace, NIGHTSHIFT_WORKER_GRACE or 30s, plus 5s)

Examples:
  nightshift up --app examples/factory/app.ts
  NIGHTSHIFT_PREFIX=dev nightshift up --app ./app.ts --grace 1m
  NIGHTSHIFT_WORKER_METRICS_PORT=19464 NIGHTSHIFT_BEAT_METRICS_PORT=19465 nightshift up --app ./app.ts
  nightshift up --app ./app.ts --json | jq 'select(.event == "restarting")'`;

/** `nightshift up`, with the repo, Node and timings replaceable for tests. */
export function createUpCommand(settings: UpSettings = {}): Command {
  return defineCommand({
    name: 'up',
    summary: 'run every Nightshift service of an app, restarting any that crash',
    usage,
    options,
    async run({ values }, io) {
      const appArgument = requireApp(values, 'up');
      const gracePeriodMs = values.grace === undefined ? serviceStopGraceMs(io.env) : parseDuration(values.grace, '--grace');
      const taskGraceMs = workerGraceMs(io.env);
      const config = loadConfig(io.env);
      const app = await loadApp(appArgument, io.cwd);
      assertScheduleValid(app, appArgument, 'nothing was started');
      const appPath = resolve(io.cwd, appArgument);
      const services = locateServices(settings.repoRoot);
      const ports = metricsPorts(services.filter((s) => s.exists).map((s) => s.name), io.env);
      const output = new ServiceOutput({
        stdout: io.stdout,
        stderr: io.stderr,
        names: services.map((s) => s.name),
        json: values.json,
        color: !values.json && wantsColor(io.stdout, io.env),
      });

      output.event(SUPERVISOR_NAME, 'app', `app "${app.name}" (${count(app.tasks.length, 'task')}, ${count(app.schedule.length, 'schedule entry', 'schedule entries')}) from ${appArgument}; broker ${redactUrl(config.amqpUrl)}, prefix "${config.prefix}"`, {
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

      const waiting = new AbortController();
      const stopWaiting = io.onInterrupt(() => waiting.abort());
      const brokerWaitMs = settings.brokerWaitMs ?? BROKER_WAIT_MS;
      const accepting = await awaitBrokerAccepting({
        amqpUrl: config.amqpUrl, shownUrl: redactUrl(config.amqpUrl), boundMs: brokerWaitMs, pollMs: 500, progressEveryMs: 10_000,
        say: (event, message, fields) => output.event(SUPERVISOR_NAME, event, message, fields), signal: waiting.signal,
      }).finally(stopWaiting);
      if (waiting.signal.aborted) return 0;
      if (!accepting) {
        throw new CommandFailure(`RabbitMQ at ${redactUrl(config.amqpUrl)} still refuses connections after ${readableDuration(brokerWaitMs)}; nothing was started`, {
          code: 'E_BROKER_UNAVAILABLE', hint: 'start RabbitMQ (or set NIGHTSHIFT_AMQP_URL to where it runs), then run nightshift up again',
        });
      }

      const supervisor = new Supervisor(
        present.map((s) => ({
          name: s.name, command: settings.nodePath ?? process.execPath, args: [...sourceConditionFlags(), ...stopWithParentFlags(gracePeriodMs), s.main, '--app', appPath],
          ...(ports.has(s.name) ? { env: { NIGHTSHIFT_METRICS_PORT: ports.get(s.name) } } : {}),
        })),
        { output, restart: settings.restart, gracePeriodMs, fatalExitCodes: FATAL_EXIT_CODES, env: io.env, cwd: io.cwd },
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
      // Beside the start, not before it: the catalogue of settings imports every service.
      void unknownSettingWarnings(io.env).then((warnings) => {
        for (const { name, didYouMean, message } of warnings) output.event(SUPERVISOR_NAME, 'unknown-setting', message, { setting: name, didYouMean });
      }, () => {});
      try {
        output.event(SUPERVISOR_NAME, 'supervising', `supervising ${names}; ${howCtrlCStops(present.some((s) => s.name === 'worker'), taskGraceMs, gracePeriodMs, values.grace !== undefined)}`, {
          services: present.map((s) => s.name), gracePeriodMs, workerGraceMs: taskGraceMs,
        });
        return stopped(await supervisor.start(), output);
      } finally {
        stopListening();
      }
    },
  });
}

/**
 * What Ctrl-C will do, in the README's words: running tasks get the worker's grace to finish, and a service
 * still running after the grace period (the worker's grace plus the margin it needs to hand back the rest) is killed.
 */
function howCtrlCStops(withWorker: boolean, taskGraceMs: number, gracePeriodMs: number, graceGiven: boolean): string {
  const killed = `any still running after ${readableDuration(gracePeriodMs)}${graceGiven ? ' (--grace)' : ''} is killed`;
  const taskGrace = `the worker's grace (NIGHTSHIFT_WORKER_GRACE, ${readableDuration(taskGraceMs)})`;
  if (!withWorker) return `Ctrl-C stops them; ${killed}`;
  if (gracePeriodMs <= taskGraceMs) return `Ctrl-C stops them; ${killed}, before running tasks have had ${taskGrace} to finish`;
  return `Ctrl-C stops them, giving running tasks ${taskGrace} to finish; ${killed}`;
}

/** The last line of `up` and its exit code: 2 when a service could not run, 1 when one had to be killed. */
function stopped({ killed, fatal }: StopResult, output: ServiceOutput): number {
  const fields = { killed, ...(fatal ? { fatal: fatal.service, code: fatal.code } : {}) };
  const kills = killed.length > 0 ? `; ${killed.join(', ')} had to be killed` : '';
  if (fatal) {
    output.event(SUPERVISOR_NAME, 'stopped', `stopped because ${fatal.service} exited with code ${fatal.code} (${fatal.meaning})${kills}`, fields);
    return 2;
  }
  output.event(SUPERVISOR_NAME, 'stopped', killed.length > 0 ? `stopped${kills}` : 'all services stopped', fields);
  return killed.length > 0 ? 1 : 0;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const up = createUpCommand();
