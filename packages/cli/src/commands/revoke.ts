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
too, and recorded with your login name ("nightshift control history"). A task that has finished is refused
and nothing is revoked. An id the task history does not know (yet: it records a send a moment after it is
published) is revoked all the same, and said so: the task is skipped if it arrives. An id no task could have
(cut short with "…", or with spaces) is refused. With --json: one line per worker's reply, and for an id the history does not know, a line
{"id", "known": false, "keptMs"}.

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
    if (values.json && !result.known) io.stdout.write(`${JSON.stringify({ id, known: false, keptMs: result.keptMs })}\n`);
    if (!values.json) {
      const unknown = result.known ? '' : `; no run of it in the task history yet: it will be skipped if it arrives`;
      io.stdout.write(`revoked ${id}${replies.length === 0 ? ' (no worker answered now)' : ''}; kept for workers started later${unknown}\n`);
    }
    return 0;
  },
});
