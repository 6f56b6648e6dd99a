import { redact } from '@nightshift/telemetry';
import type { DeadLetter, DeadLetterReview } from '@nightshift/store';
import type { Io } from '../command.ts';
import { withDeadLetters } from './dead-letters-store.ts';

/** `nightshift dead-letters show <id>`: everything kept about one dead letter, secrets redacted. */
export async function showDeadLetter(id: string, values: { readonly json: boolean }, io: Io): Promise<number> {
  return withDeadLetters(io, async (deadLetters, config) => {
    const deadLetter = await deadLetters.get(id);
    const { body, ...rest } = deadLetter;
    const reviews = await deadLetters.reviews(id);
    const shown = redact({ ...rest, body: body.toString('utf8'), reviews }, { keys: config.redactKeys }) as Shown;
    if (values.json) {
      io.stdout.write(`${JSON.stringify(shown)}\n`);
      return 0;
    }
    io.stdout.write(`${describe(shown)}\n`);
    return 0;
  });
}

type Shown = Omit<DeadLetter, 'body'> & { body: string; reviews: readonly DeadLetterReview[] };

function describe(d: Shown): string {
  const line = (label: string, value: unknown) => (value === null || value === undefined || value === '' ? [] : [`${`${label}:`.padEnd(14)}${typeof value === 'string' ? value : JSON.stringify(value)}`]);
  const status = d.status === 'pending' ? 'pending' : `${d.status} by ${d.statusBy ?? '?'} at ${d.statusAt ?? '?'}${d.statusNote ? ` (${d.statusNote})` : ''}`;
  return [
    `dead letter #${d.id}: ${d.task ?? '(no task)'} — ${d.reason}`,
    '',
    ...line('status', status),
    ...line('task', d.task),
    ...line('message id', d.messageId),
    ...line('queue', d.queue),
    ...line('args', d.args),
    ...line('kwargs', d.kwargs),
    ...line('error', d.errorClass ? `${d.errorClass}${d.errorCode ? ` [${d.errorCode}]` : ''}: ${d.errorMessage ?? ''}` : null),
    ...line('detail', d.detail),
    ...line('attempts', d.attempts),
    ...line('worker', d.worker),
    ...line('first failed', d.firstFailedAt),
    ...line('last failed', d.lastFailedAt),
    ...line('trace id', d.traceId),
    ...line('replay of', d.replayOf ? `#${d.replayOf}` : null),
    ...line('requeued', d.requeueCount > 0 ? `${d.requeueCount} time(s), latest as ${d.replayId}` : null),
    ...(d.errorStack ? ['', d.errorStack] : []),
    ...(d.reviews.length > 0 ? ['', 'reviews:', ...d.reviews.map((r) => `  ${r.at}  ${r.action} by ${r.by}${r.note ? ` (${r.note})` : ''}${r.action === 'edited' ? `  ${JSON.stringify(r.detail)}` : ''}`)] : []),
    '',
    d.status === 'requeued'
      ? `already requeued; to send it again: nightshift dead-letters requeue ${d.id} --force`
      : `next: nightshift dead-letters requeue ${d.id}   or   nightshift dead-letters ignore ${d.id} --note '<why>'`,
  ].join('\n');
}
