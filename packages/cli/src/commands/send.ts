import { loadApp, loadConfig, parseDuration, validateQueueName } from '@nightshift/core';
import { createClient, type SendOptions } from '@nightshift/broker';
import { startCommandTracing } from '@nightshift/telemetry';
import { waitForBroker } from '../broker-wait.ts';
import { defineCommand, UsageError } from '../command.ts';
import { requireApp } from '../arguments.ts';

const options = {
  app: { type: 'string' },
  args: { type: 'string', default: '[]' },
  kwargs: { type: 'string', default: '{}' },
  queue: { type: 'string' },
  countdown: { type: 'string' },
  eta: { type: 'string' },
  expires: { type: 'string' },
  id: { type: 'string' },
} as const;

const usage = `Usage: nightshift send <task> --app <path> [--args '<json array>'] [--kwargs '<json object>'] [options]

Sends one task message and prints its id once RabbitMQ has confirmed it. The task's queue is declared
if needed, so the message waits there until a worker starts. A delayed task (--countdown, --eta) waits
in the retry ladder, not in a held message. With OTEL_EXPORTER_OTLP_ENDPOINT set, the task's trace
begins here: a "send" span is exported, and the worker's attempts are its children.

Options:
      --app <path>          the module whose default export is the app (defineApp); required
      --args <json>         the task's positional arguments, a JSON array (default: [])
      --kwargs <json>       keyword arguments, a JSON object, passed as ctx.kwargs (default: {})
      --queue <name>        send to this queue instead of the task's own
      --countdown <dur>     run no sooner than this from now, e.g. 30s, 5m
      --eta <time>          run no sooner than this ISO 8601 time
      --expires <dur|time>  do not run after this (a duration from now, or an ISO time)
      --id <id>             the message id (default: a random UUID)

Examples:
  nightshift send reports.generateDaily --app examples/factory/app.ts --args '["usage"]'
  nightshift send apis.checkHealth --app examples/factory/app.ts --args '[{"timeout":"2s"}]' --countdown 10s
  nightshift send users.sync --app ./app.ts --args '["42"]' --json | jq -r .id`;

export const send = defineCommand({
  name: 'send',
  summary: 'send a task message (confirmed by the broker) and print its id',
  usage,
  options,
  positionals: true,
  async run({ values, positionals }, io) {
    const [taskName, ...extra] = positionals;
    if (taskName === undefined) throw new UsageError('"nightshift send" needs the task name', 'e.g. nightshift send reports.generateDaily --app examples/factory/app.ts --args \'["usage"]\'');
    if (extra.length > 0) throw new UsageError(`unexpected ${JSON.stringify(extra[0])} after the task name`, 'pass arguments with --args \'[...]\'');
    const appPath = requireApp(values, 'send');
    const args = parseJson(values.args, '--args', 'a JSON array, e.g. \'["usage", 3]\'');
    if (!Array.isArray(args)) throw new UsageError('--args must be a JSON array', 'e.g. --args \'["usage", 3]\' (wrap a single object as \'[{"timeout": 5}]\')');
    const kwargs = parseJson(values.kwargs, '--kwargs', 'a JSON object, e.g. \'{"region": "eu"}\'');
    if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) throw new UsageError('--kwargs must be a JSON object', 'e.g. --kwargs \'{"region": "eu"}\'');
    const times = deliveryTimes(values);
    if (values.queue !== undefined) validateQueueName(values.queue, '--queue');

    const config = loadConfig(io.env);
    const app = await loadApp(appPath, io.cwd);
    if (!app.task(taskName)) {
      throw new UsageError(`app "${app.name}" has no task ${JSON.stringify(taskName)}`, `its tasks: ${app.tasks.map((t) => t.name).join(', ')}`);
    }
    const sendOptions: SendOptions = {
      kwargs: kwargs as Record<string, unknown>,
      ...(values.queue !== undefined ? { queue: values.queue } : {}),
      ...times,
      ...(values.id !== undefined ? { id: values.id } : {}),
    };
    // With an OTLP endpoint set, the task's trace begins here, with a `send` span, rather than at its first attempt.
    const stopTracing = startCommandTracing('nightshift-cli', io.env);
    const client = await waitForBroker(createClient(config, { app, name: 'cli', failWhenRefused: true }), config, io, values.json);
    try {
      const id = await client.send(taskName as never, args as never, sendOptions);
      const queue = sendOptions.queue ?? app.task(taskName)?.queue ?? app.defaults.queue ?? 'default';
      if (values.json) io.stdout.write(`${JSON.stringify({ id, task: taskName, queue, prefix: config.prefix })}\n`);
      else io.stdout.write(`sent ${taskName} to queue "${queue}" (prefix "${config.prefix}"): ${id}\n`);
      return 0;
    } finally {
      await client.close();
      await stopTracing();
    }
  },
});

/** --countdown, --eta and --expires, read before anything connects so that a mistake names the option. */
function deliveryTimes(values: { readonly countdown?: string; readonly eta?: string; readonly expires?: string }): Pick<SendOptions, 'countdown' | 'eta' | 'expires'> {
  if (values.countdown !== undefined && values.eta !== undefined) throw new UsageError('give --countdown or --eta, not both', 'both say when the task may run: --countdown from now, --eta at a time');
  return {
    ...(values.countdown !== undefined ? { countdown: parseDuration(values.countdown, '--countdown') } : {}),
    ...(values.eta !== undefined ? { eta: readTime(values.eta, '--eta') } : {}),
    ...(values.expires !== undefined ? { expires: /^\d{4}-/.test(values.expires) ? readTime(values.expires, '--expires') : parseDuration(values.expires, '--expires') } : {}),
  };
}

function readTime(text: string, option: string): Date {
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new UsageError(`${option} ${JSON.stringify(text)} is not a time`, 'write an ISO 8601 time, e.g. 2026-01-01T09:00:00Z');
  return new Date(time);
}

function parseJson(text: string, option: string, expected: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${option} is not valid JSON (${(error as Error).message})`, `it must be ${expected}; quote it for the shell`);
  }
}
