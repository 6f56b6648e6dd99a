import { parseDuration } from '@nightshift/core';
import { broadcastControl } from '@nightshift/broker';
import { CommandFailure, defineCommand, UsageError } from '../command.ts';
import { withBroker } from './inspect.ts';

const options = {
  terminate: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '1s' },
} as const;

const usage = `Usage: nightshift revoke <task id> [--terminate] [--timeout 1s]

Tells every running worker to skip the task with this id when it arrives. With --terminate, a worker
running it stops it now (its sandbox is terminated); the task is reported revoked, not retried.
Workers remember revoked ids while they run; a worker started later does not know them.

Examples:
  nightshift revoke 3f6c1c1e-…
  nightshift revoke 3f6c1c1e-… --terminate`;

export const revoke = defineCommand({
  name: 'revoke',
  summary: 'skip a task that has not started, or stop it with --terminate',
  usage,
  options,
  positionals: true,
  async run({ values, positionals }, io) {
    const [id, ...extra] = positionals;
    if (!id || extra.length > 0) throw new UsageError('"nightshift revoke" needs one task id', 'e.g. nightshift revoke 3f6c1c1e-… --terminate');
    const timeoutMs = parseDuration(values.timeout, '--timeout');
    const replies = await withBroker(io, (broker) => broadcastControl(broker, 'revoke', { id, terminate: values.terminate }, { timeoutMs }));
    const noReply = `no worker answered within ${values.timeout}; nothing was revoked`;
    if (replies.length === 0) {
      if (values.json) throw new CommandFailure(noReply, { code: 'E_NO_REPLY' });
      io.stderr.write(`${noReply}\n`);
      return 1;
    }
    // With --json, one object per worker's reply, a line each.
    for (const r of replies) io.stdout.write(values.json ? `${JSON.stringify(r)}\n` : `${r.worker}  ${(r.reply as { state?: string }).state ?? JSON.stringify(r.reply)}\n`);
    return 0;
  },
});
