import { defineCommand, UsageError } from '../command.ts';
import { reviewer } from '../reviewer.ts';
import { withRemoteControl } from './control.ts';

const options = {
  terminate: { type: 'boolean', default: false },
} as const;

const usage = `Usage: nightshift revoke <task id> [--terminate]

Tells every running worker to skip the task with this id when it arrives. With --terminate, a worker
running it stops it now (its sandbox is terminated); the task is reported revoked, not retried.
The revoke is kept in Redis (a day at least, beyond the retry horizon), so a worker started later skips it
too, and recorded with your login name ("nightshift control history"). An id the task history does not know,
or a task that has finished, is refused and nothing is revoked.

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
    const result = await withRemoteControl(io, (remote) => remote.revoke(id, values.terminate, { actor: reviewer(io), via: 'cli' }));
    const replies = result.replies as Array<{ worker: string; reply: { state?: string } }>;
    // With --json, one object per worker's reply, a line each.
    for (const r of replies) io.stdout.write(values.json ? `${JSON.stringify(r)}\n` : `${r.worker}  ${r.reply.state ?? JSON.stringify(r.reply)}\n`);
    if (!values.json) io.stdout.write(`revoked ${id}${replies.length === 0 ? ' (no worker answered now)' : ''}; kept for workers started later\n`);
    return 0;
  },
});
