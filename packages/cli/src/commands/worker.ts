import { WORKER_FLAGS } from '@nightshift/worker';
import { defineCommand } from '../command.ts';
import { requireApp } from '../arguments.ts';
import { runService } from '../run-service.ts';
import { serviceStopGraceMs } from '../service-stop.ts';

const options = WORKER_FLAGS;

const usage = `Usage: nightshift worker --app <path> [--queues a,b] [--concurrency N] [--autoscale max,min] [--pool threads|inline] [--grace <dur>] [--name <name>]

Consumes the app's queues and runs each task in a sandbox with its soft and hard time limits, retrying
through the retry ladder and dead-lettering what can never succeed. Logs are JSON lines; metrics are
served on NIGHTSHIFT_METRICS_PORT (default 9464). The first Ctrl-C, SIGTERM or SIGHUP (the terminal
closed) stops taking tasks and lets running ones finish within the grace period (then returns them to
their queues); a second stops at once. Nothing is lost either way.

Options:
      --app <path>         the module whose default export is the app (defineApp); required
      --queues <a,b>       queues to consume (default: every queue the app's tasks use)
      --concurrency <N>    sandboxes, i.e. tasks at once (default: the CPU count)
      --autoscale <max,min>
                           follow the load: start at min (or --concurrency), grow toward max while tasks wait,
                           shrink toward min after NIGHTSHIFT_WORKER_AUTOSCALE_KEEPALIVE (30s) not full (Celery's)
      --pool <kind>        threads (default; the hard limit kills) or inline (I/O-bound tasks; it cannot)
      --grace <duration>   how long running tasks may finish after SIGTERM (default: NIGHTSHIFT_WORKER_GRACE, else 30s)
      --name <name>        worker name in events and control replies (default: worker@<host>:<pid>)

Examples:
  nightshift worker --app examples/factory/app.ts
  nightshift worker --app ./app.ts --queues reports,sync --concurrency 8
  nightshift worker --app ./app.ts --autoscale 10,2`;

export const worker = defineCommand({
  name: 'worker',
  summary: 'run tasks from the app\'s queues with time limits, retries and dead-lettering',
  usage,
  options,
  async run({ values }, io) {
    const appPath = requireApp(values, 'worker');
    const args = ['--app', appPath];
    for (const flag of ['queues', 'concurrency', 'autoscale', 'pool', 'grace', 'name'] as const) {
      const value = values[flag];
      if (value !== undefined) args.push(`--${flag}`, value);
    }
    return runService('worker', args, io, { stopGraceMs: serviceStopGraceMs(io.env, values.grace) });
  },
});
