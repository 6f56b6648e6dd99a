import { Broker, brokerOptions, brokerReplayPublisher, EventPublisher } from '@nightshift/broker';
import { DEAD_LETTER_STATUSES, type DeadLetterStatus, type RequeueSelection } from '@nightshift/store';
import { waitForBroker } from '../broker-wait.ts';
import { UsageError, type Io } from '../command.ts';
import { reviewer } from '../reviewer.ts';
import { describeFilter, readSince, withDeadLetters } from './dead-letters-store.ts';

export interface RequeueValues {
  readonly task?: string;
  readonly status?: string;
  readonly since?: string;
  readonly until?: string;
  readonly 'error-class'?: string;
  readonly rate?: string;
  readonly note?: string;
  readonly force?: boolean;
  readonly yes?: boolean;
  readonly json: boolean;
}

/** `nightshift dead-letters requeue <id…>` or `--task T [--status pending]`: sends the tasks again, marks the rows. */
export async function requeueDeadLetters(ids: readonly string[], values: RequeueValues, io: Io): Promise<number> {
  const byFilter = values.task !== undefined || values['error-class'] !== undefined;
  if (ids.length > 0 && byFilter) throw new UsageError('give ids or a filter (--task, --error-class), not both');
  if (ids.length === 0 && !byFilter) {
    throw new UsageError('"nightshift dead-letters requeue" needs ids or --task <name> (or --error-class <class>)', 'e.g. nightshift dead-letters requeue 42 43, or nightshift dead-letters requeue --task reports.generate --status pending');
  }
  const perSecond = values.rate === undefined ? undefined : Number(values.rate);
  if (perSecond !== undefined && !(Number.isFinite(perSecond) && perSecond > 0)) throw new UsageError(`--rate ${JSON.stringify(values.rate)} is not a rate`, 'a number of requeues a second above 0, e.g. --rate 20');
  const status = values.status ?? 'pending';
  if (!DEAD_LETTER_STATUSES.includes(status as DeadLetterStatus)) throw new UsageError(`--status ${JSON.stringify(status)} is not a status`, `use one of ${DEAD_LETTER_STATUSES.join(', ')}`);
  if (ids.length > 0 && values.yes === true) throw new UsageError('--yes applies to a requeue by filter (--task, --error-class), not to ids: ids are what you chose');
  // A requeue by filter takes what had died when it was counted: a letter arriving while the person reads the
  // question is not swept up with the ones they agreed to.
  const until = values.until !== undefined ? readSince(values.until) : new Date();
  const filter = {
    status: status as DeadLetterStatus,
    ...(values.task !== undefined ? { task: values.task } : {}), ...(values['error-class'] !== undefined ? { errorClass: values['error-class'] } : {}),
    ...(values.since !== undefined ? { since: readSince(values.since) } : {}), until,
  };
  let selection: RequeueSelection = ids.length > 0 ? { ids } : filter;
  const described = describeFilter(values);
  return withDeadLetters(io, async (deadLetters, config) => {
    if (ids.length === 0) {
      const total = await deadLetters.count(filter);
      if (total === 0) {
        if (!values.json) io.stdout.write(`nothing to requeue: no ${status} dead letters${described ? ` ${described}` : ''}\n`);
        return 0;
      }
      // Each requeued letter runs its task again (a charge, a mail): a filter's count is confirmed first, as the
      // dashboard's bulk requeue is.
      if (values.yes !== true) {
        const answer = await io.ask(`requeue ${total} ${status} dead letter${total === 1 ? '' : 's'} ${described}: each task runs again${perSecond !== undefined ? `, ${perSecond} a second` : ''}? [y/N] `);
        if (answer === undefined) throw new UsageError(`"nightshift dead-letters requeue" asks before it requeues ${total} dead letters, and nobody is at a terminal to answer`, 'add --yes to requeue without asking (nothing was done)');
        if (!/^y(es)?$/i.test(answer.trim())) {
          if (!values.json) io.stdout.write('nothing done\n');
          return 1;
        }
      }
      selection = { ...filter, limit: total }; // all that were counted (the store's default stops at 1,000)
    }
    const broker = await waitForBroker(Broker.connect({ ...brokerOptions(config, 'nightshift cli'), failWhenRefused: true }), config, io, values.json);
    // The replays' `task.sent` events give their runs in the history their args; closed before the broker, so they go out.
    const events = new EventPublisher(broker);
    try {
      await events.ready();
      const outcomes = await deadLetters.requeue(selection, {
        publish: brokerReplayPublisher(broker, events), force: values.force === true, by: reviewer(io), ...(values.note !== undefined ? { note: values.note } : {}),
        ...(perSecond !== undefined ? { perSecond, onProgress: (done: number, total: number) => { if (!values.json) io.stderr.write(`requeued ${done} of ${total}\n`); } } : {}),
      });
      for (const outcome of outcomes) {
        io.stdout.write(values.json
          ? `${JSON.stringify(outcome)}\n`
          : `requeued #${outcome.id} (${outcome.task}) to queue "${outcome.queue}" as ${outcome.replayId}\n`);
      }
      if (outcomes.length === 0 && !values.json) io.stdout.write(`nothing to requeue: no ${status} dead letters${described ? ` ${described}` : ''}\n`);
      return 0;
    } finally {
      await events.close();
      await broker.close();
    }
  });
}
