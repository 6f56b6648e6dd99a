import type { BackfillProgress, BackfillResult } from '@nightshift/client';
import { CommandFailure, UsageError, type Io } from '../command.ts';
import { reviewer } from '../reviewer.ts';
import { shortTime } from '../text-table.ts';
import { withSchedules } from './schedule-client.ts';

/** `nightshift schedule pause <name> [--note]`: no run is sent until it is resumed. */
export async function pauseEntry(appPath: string, name: string, values: { readonly note?: string; readonly json: boolean }, io: Io): Promise<number> {
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    const view = await schedules.pause(name, { by: reviewer(io), note: values.note ?? null });
    io.stdout.write(values.json
      ? `${JSON.stringify({ name, paused: view.paused })}\n`
      : `paused ${JSON.stringify(name)}${values.note ? ` (${values.note})` : ''}: runs that fall due are not sent, and are counted missed (paused); resume: nightshift schedule resume ${name} --app ${appPath}\n`);
    return 0;
  });
}

/** `nightshift schedule resume <name>`: runs are sent again from the next fire time. */
export async function resumeEntry(appPath: string, name: string, values: { readonly json: boolean }, io: Io): Promise<number> {
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    const view = await schedules.resume(name, { by: reviewer(io) });
    const next = view.nextRuns[0];
    io.stdout.write(values.json
      ? `${JSON.stringify({ name, paused: null, nextRun: next ?? null })}\n`
      : `resumed ${JSON.stringify(name)}: ${next === undefined ? 'it has no fire time left' : `the next run is at ${shortTime(next)}`}; the fire times missed while paused are not sent (backfill sends them: nightshift schedule backfill ${name} --app ${appPath} --from … --to …)\n`);
    return 0;
  });
}

/** `nightshift schedule run-now <name> [--force]`: one run, sent at once, beside the schedule's. */
export async function runEntryNow(appPath: string, name: string, values: { readonly force: boolean; readonly json: boolean }, io: Io): Promise<number> {
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    const outcome = await schedules.runNow(name, { by: reviewer(io), force: values.force });
    if (!outcome.sent) {
      throw new UsageError(
        `not sent: the last run of ${JSON.stringify(name)} (${outcome.running}) has not finished, and its overlap policy does not allow another`,
        `add --force to send one anyway, or wait for it: nightshift schedule history ${name} --app ${appPath}`,
        { code: 'E_SCHEDULE_OVERLAP' },
      );
    }
    io.stdout.write(values.json ? `${JSON.stringify({ name, ...outcome })}\n` : `sent a run of ${JSON.stringify(name)} now: ${outcome.id}\n`);
    return 0;
  });
}

export interface BackfillValues {
  readonly from?: string;
  readonly to?: string;
  readonly rate?: string;
  readonly json: boolean;
}

/**
 * `nightshift schedule backfill <name> --from --to`: each fire time of the range once, oldest first. On a terminal,
 * a progress line that rewrites itself; then what was sent and what was there already.
 */
export async function backfillEntry(appPath: string, name: string, values: BackfillValues, io: Io): Promise<number> {
  const from = readTime(values.from, '--from');
  const to = readTime(values.to, '--to');
  if (to < from) throw new UsageError('--to is before --from', 'the range is --from <earliest fire time> --to <latest>');
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0 || rate > 1000)) throw new UsageError(`--rate ${JSON.stringify(values.rate)} must be a number of runs a second, above 0 and at most 1000`);
  const progress = io.stderr.isTTY === true && !values.json;
  let sent = 0;
  const onProgress = ({ outcome, done, total }: BackfillProgress) => {
    if (outcome === 'sent') sent += 1;
    if (progress) io.stderr.write(`\rbackfill ${name}: ${done} of ${total} fire times (${sent} sent, ${done - sent} already there)`);
  };
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    // Ctrl-C stops between two fire times: what was sent stays sent, and a backfill run again finds it there.
    const stop = new AbortController();
    const stopListening = io.onInterrupt(() => stop.abort());
    let result: BackfillResult;
    try {
      result = await schedules.backfill(name, {
        from, to, by: reviewer(io), signal: stop.signal, onProgress, ...(rate !== undefined ? { ratePerSecond: rate } : {}),
      });
    } catch (error) {
      if (!stop.signal.aborted) throw error;
      // Counted once it stopped: a send under way when Ctrl-C came was finished first.
      throw new CommandFailure(`backfill of ${JSON.stringify(name)} stopped: ${sent} sent; run it again to send the rest (what was sent is not sent again)`, { code: 'E_INTERRUPTED', cause: error });
    } finally {
      stopListening();
      if (progress) io.stderr.write('\n');
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ name, from: from.toISOString(), to: to.toISOString(), ...result })}\n`);
      return 0;
    }
    const { fireTimes, alreadyThere } = result;
    io.stdout.write(fireTimes === 0
      ? `no fire time of ${JSON.stringify(name)} from ${shortTime(from.toISOString())} to ${shortTime(to.toISOString())}: nothing sent\n`
      : `backfill of ${JSON.stringify(name)} from ${shortTime(from.toISOString())} to ${shortTime(to.toISOString())}: ${fireTimes} fire ${fireTimes === 1 ? 'time' : 'times'}, ${result.sent} sent, ${alreadyThere} already there\n`);
    return 0;
  });
}

function readTime(text: string | undefined, option: string): Date {
  if (text === undefined) throw new UsageError(`"schedule backfill" needs ${option}`, 'e.g. --from 2026-11-20T00:00Z --to 2026-11-24T00:00Z (ISO 8601, Z or an offset)');
  const ms = /^\d{4}-\d{2}-\d{2}(T.*(Z|[+-]\d{2}:?\d{2}))?$/i.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${option} ${JSON.stringify(text)} is not a time`, 'write an ISO 8601 date, or a date and time with Z or an offset, e.g. 2026-11-20T02:30Z');
  return new Date(ms);
}
