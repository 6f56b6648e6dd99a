import { closest, loadConfig, parseDuration } from '@nightshift/core';
import { Broker, broadcastControl, brokerOptions, type ControlCommand, type ControlReply } from '@nightshift/broker';
import { CommandFailure, defineCommand, UsageError } from '../command.ts';
import type { Io } from '../command.ts';

const QUERIES = ['ping', 'active', 'reserved', 'stats', 'registered'] as const;

const options = {
  timeout: { type: 'string', default: '1s' },
  destination: { type: 'string' },
} as const;

const usage = `Usage: nightshift inspect <ping|active|reserved|stats|registered> [--timeout 1s] [--destination w1,w2]

Asks every running worker (or only the named ones) over the control exchange and prints the replies
that arrive within the timeout.

  ping        which workers answer
  active      the tasks each worker is running now, with their arguments and run time
  reserved    tasks a worker has received but not started (waiting for a free sandbox)
  stats       concurrency, busy sandboxes, tasks processed, uptime, queues
  registered  the task names each worker knows

Options:
      --timeout <duration>   how long to collect replies (default: 1s)
      --destination <names>  only these workers (comma-separated names, as ping prints them)

Examples:
  nightshift inspect ping
  nightshift inspect active --json | jq '.reply[].task'   # one JSON object per worker, a line each`;

export const inspect = defineCommand({
  name: 'inspect',
  summary: 'ask running workers: ping, active, reserved, stats, registered',
  usage,
  options,
  positionals: true,
  async run({ values, positionals }, io) {
    const [query, ...extra] = positionals;
    const needs = `"nightshift inspect" needs one of ${QUERIES.join(', ')}`;
    if (query === undefined) throw new UsageError(needs, 'e.g. nightshift inspect ping');
    if (!(QUERIES as readonly string[]).includes(query)) {
      const suggestion = closest(query, QUERIES);
      throw new UsageError(`unknown query ${JSON.stringify(query)}: ${needs}`, suggestion ? `did you mean "nightshift inspect ${suggestion}"?` : 'e.g. nightshift inspect ping');
    }
    if (extra.length > 0) throw new UsageError(`"nightshift inspect" asks one query at a time, got ${JSON.stringify(extra[0])} after ${JSON.stringify(query)}`);
    const timeoutMs = parseDuration(values.timeout, '--timeout');
    const destination = values.destination?.split(',').map((s) => s.trim()).filter(Boolean);
    const replies = await withBroker(io, (broker) => broadcastControl(broker, query as ControlCommand, {}, { timeoutMs, ...(destination ? { destination } : {}) }));
    const noReply = `no worker answered within ${values.timeout}; is one running? (nightshift worker --app <path>, or check NIGHTSHIFT_PREFIX)`;
    if (replies.length === 0) {
      if (values.json) throw new CommandFailure(noReply, { code: 'E_NO_REPLY' });
      io.stderr.write(`${noReply}\n`);
      return 1;
    }
    const sorted = replies.sort((a, b) => a.worker.localeCompare(b.worker));
    // One JSON object per line (a reply per worker), as every --json output: `jq` and line tools read them one by one.
    for (const reply of sorted) io.stdout.write(values.json ? `${JSON.stringify(reply)}\n` : describe(query, reply));
    return 0;
  },
});

/** Connects with the environment's settings, runs `work`, and always closes. */
export async function withBroker<T>(io: Io, work: (broker: Broker) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const broker = await Broker.connect({ ...brokerOptions(config, 'nightshift cli'), connectTimeoutMs: 5_000, declareTopology: false, failWhenRefused: true });
  try {
    return await work(broker);
  } finally {
    await broker.close();
  }
}

function describe(query: string, { worker, reply }: ControlReply): string {
  switch (query) {
    case 'ping': return `${worker}  pong\n`;
    case 'registered': return `${worker}\n${(reply as string[]).map((t) => `  ${t}\n`).join('')}`;
    case 'stats': return `${worker}\n${Object.entries(reply as Record<string, unknown>).map(([k, v]) => `  ${k.padEnd(12)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`).join('')}`;
    default: {
      const tasks = reply as Array<{ id: string; task: string; attempt: number; runningMs?: number; args: unknown[] }>;
      if (tasks.length === 0) return `${worker}  (none)\n`;
      return `${worker}\n${tasks.map((t) => `  ${t.id}  ${t.task}  attempt ${t.attempt}${t.runningMs !== undefined ? `  running ${(t.runningMs / 1000).toFixed(1)}s` : ''}  args ${JSON.stringify(t.args)}\n`).join('')}`;
    }
  }
}
