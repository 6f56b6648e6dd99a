import { closest, errorOutcome, loadConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { RemoteControl, WORKER_ACTIONS, type ControlResult, type WorkerAction } from '@nightshift/health-api';
import { assertMigrated, ControlActions, Store, storeOptions, TaskRuns } from '@nightshift/store';
import { defineCommand, UsageError, type Io } from '../command.ts';
import { reviewer } from '../reviewer.ts';

const options = {
  n: { type: 'string', default: '1' },
  min: { type: 'string' },
  max: { type: 'string' },
  worker: { type: 'string' },
  limit: { type: 'string', default: '20' },
  yes: { type: 'boolean', short: 'y', default: false },
} as const;

const usage = `Usage: nightshift control <action> <worker> [arguments] [--yes]
       nightshift control history [--worker W] [--limit 20]

Controls one running worker over the control exchange (as the dashboard's worker page does). Each asks before
it acts unless --yes (needed when not at a terminal), waits for the worker's answer, and is recorded with who
(your login name) and when; "history" lists what was done.

  shutdown <worker>                 stop taking tasks; running ones may finish within the grace period; exit
  pool-restart <worker>             new sandboxes take new tasks; running tasks finish in the old ones first
  pool-grow <worker> [--n 1]        more sandboxes, within the autoscale bounds
  pool-shrink <worker> [--n 1]      fewer sandboxes, within the autoscale bounds; running tasks finish first
  autoscale <worker> --min N --max M
                                    the bounds grow and shrink stay within
  add-consumer <worker> <queue>     consume another queue
  cancel-consumer <worker> <queue>  stop consuming a queue; tasks already received finish
  rate-limit <worker> <task> <rate> at most <count>/<s|m|h> starts of the task on that worker ("none" lifts it)

Examples:
  nightshift control pool-grow worker@host:4242 --n 2
  nightshift control rate-limit worker@host:4242 mail.send 100/m --yes
  nightshift control history --worker worker@host:4242 --json`;

const DESCRIBE: Record<WorkerAction, (worker: string, args: Record<string, unknown>) => string> = {
  shutdown: (w) => `shut down ${w}? It takes no new tasks; running ones may finish within its grace period, then it exits.`,
  'pool-restart': (w) => `restart the pool of ${w}? New sandboxes take new tasks; running tasks finish in the old ones first.`,
  'pool-grow': (w, a) => `grow the pool of ${w} by ${String(a.n)}?`,
  'pool-shrink': (w, a) => `shrink the pool of ${w} by ${String(a.n)}? Running tasks finish first.`,
  autoscale: (w, a) => `keep the pool of ${w} between ${String(a.min)} and ${String(a.max)} sandboxes?`,
  'add-consumer': (w, a) => `make ${w} consume queue ${JSON.stringify(a.queue)}?`,
  'cancel-consumer': (w, a) => `stop ${w} consuming queue ${JSON.stringify(a.queue)}? Tasks it has received finish.`,
  'rate-limit': (w, a) => `limit task ${JSON.stringify(a.task)} to ${String(a.rate)} on ${w}?`,
};

const whole = (text: string | undefined, flag: string): number => {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < 1 || value > 1024) throw new UsageError(`${flag} ${JSON.stringify(text)} must be a whole number from 1 to 1024`);
  return value;
};

export const control = defineCommand({
  name: 'control',
  summary: 'control a worker: shutdown, pool restart/grow/shrink, autoscale, consumers, rate limits (recorded)',
  usage,
  options,
  positionals: true,
  async run({ values, positionals }, io) {
    const [action, ...rest] = positionals;
    if (action === 'history') return history(io, values);
    const known = WORKER_ACTIONS as readonly string[];
    if (action === undefined || !known.includes(action)) {
      const suggestion = action === undefined ? undefined : closest(action, [...known, 'history']);
      throw new UsageError(`"nightshift control" needs one of ${known.join(', ')} or history${action === undefined ? '' : `, got ${JSON.stringify(action)}`}`, suggestion ? `did you mean "nightshift control ${suggestion}"?` : 'e.g. nightshift control pool-grow <worker>');
    }
    const [worker, ...more] = rest;
    if (worker === undefined) throw new UsageError(`"nightshift control ${action}" needs the worker's name`, '"nightshift inspect ping" lists the workers that answer');
    const args = readArgs(action as WorkerAction, more, values);
    if (!values.yes) {
      const answer = await io.ask(`${DESCRIBE[action as WorkerAction](worker, args)} [y/N] `);
      if (answer === undefined) throw new UsageError(`"nightshift control ${action}" asks before it acts, and nobody is at a terminal to answer`, 'add --yes to act without asking (nothing was done)');
      if (!/^y(es)?$/i.test(answer.trim())) {
        if (!values.json) io.stdout.write('nothing done\n');
        return 1;
      }
    }
    const result = await withRemoteControl(io, (remote) => remote.control(worker, action as WorkerAction, args, { actor: reviewer(io), via: 'cli' }));
    const reply = result.replies[0] as { detail?: string } | undefined;
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${worker}  ${reply?.detail ?? 'done'}\n  recorded: ${result.audit.actor} at ${result.audit.at}\n`);
    return 0;
  },
});

function readArgs(action: WorkerAction, more: string[], values: { n: string; min?: string | undefined; max?: string | undefined }): Record<string, unknown> {
  const expect = (count: number, names: string) => {
    if (more.length !== count) throw new UsageError(`"nightshift control ${action}" takes ${names}, got ${more.length === 0 ? 'nothing' : JSON.stringify(more.join(' '))}`);
  };
  switch (action) {
    case 'pool-grow':
    case 'pool-shrink': expect(0, 'the worker and --n'); return { n: whole(values.n, '--n') };
    case 'autoscale': expect(0, 'the worker, --min and --max'); return { min: whole(values.min, '--min'), max: whole(values.max, '--max') };
    case 'add-consumer':
    case 'cancel-consumer': expect(1, 'the worker and a queue'); return { queue: more[0] };
    case 'rate-limit': expect(2, 'the worker, a task and a rate (e.g. 100/m, or none)'); return { task: more[0], rate: more[1] };
    default: expect(0, 'only the worker'); return {};
  }
}

async function history(io: Io, values: { worker?: string | undefined; limit: string; json: boolean }): Promise<number> {
  const limit = whole(values.limit, '--limit');
  const config = loadConfig(io.env);
  const store = new Store(storeOptions(config, io.env, 'nightshift cli'));
  try {
    await assertMigrated(store);
    const items = await new ControlActions(store).list({ ...(values.worker ? { worker: values.worker } : {}), limit });
    for (const a of items) {
      io.stdout.write(values.json ? `${JSON.stringify(a)}\n` : `${a.at}  ${a.actor} (${a.via})  ${a.action}  ${a.worker ?? 'every worker'}  ${JSON.stringify(a.args)}  ${a.outcome}\n`);
    }
    if (items.length === 0 && !values.json) io.stdout.write('no control actions recorded\n');
    return 0;
  } finally {
    await store.close();
  }
}

/** Connects to RabbitMQ, Redis (revokes) and the store (the audit), runs `work`, and always closes. */
export async function withRemoteControl<T extends ControlResult>(io: Io, work: (remote: RemoteControl) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const store = new Store(storeOptions(config, io.env, 'nightshift cli'));
  let broker: Broker | undefined;
  let remote: RemoteControl | undefined;
  try {
    await assertMigrated(store); // the audit must be writable before anything is done
    broker = await Broker.connect({ ...brokerOptions(config, 'nightshift cli'), connectTimeoutMs: 5_000, declareTopology: false, failWhenRefused: true });
    remote = new RemoteControl({
      broker, actions: new ControlActions(store), taskRuns: new TaskRuns(store), redisUrl: config.redisUrl, prefix: config.prefix, app: undefined,
      onlineWorkers: () => Number.MAX_SAFE_INTEGER, // unknown here: every answer that comes within the timeout
    });
    return await work(remote);
  } catch (error) {
    // Refusals from the table (a worker's no, an unknown or finished task) are the user's to fix: exit 2 with the reason.
    if (errorOutcome(error).exitCode === 2 && !(error instanceof UsageError)) throw new UsageError((error as Error).message, undefined, { code: (error as { code?: string }).code ?? 'E_USAGE', cause: error });
    throw error;
  } finally {
    remote?.close();
    await broker?.close();
    await store.close();
  }
}

