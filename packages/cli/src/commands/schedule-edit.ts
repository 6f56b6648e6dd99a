import { CodeEntryReadOnlyError, type ScheduleInput, type SchedulePatch } from '@nightshift/client';
import { UsageError, type Io } from '../command.ts';
import { reviewer } from '../reviewer.ts';
import { withSchedules } from './schedule-client.ts';
import { entryFields, type EntryValues } from './schedule-input.ts';
import { describeEntry } from './schedule-read.ts';

/** `nightshift schedule create`: a runtime entry from the options, or from `--file`. */
export async function createEntry(appPath: string, values: EntryValues & { readonly json: boolean }, io: Io): Promise<number> {
  const { note, ...input } = entryFields(values, io.cwd, false);
  if (input.name === undefined) throw new UsageError('"schedule create" needs the new entry\'s --name', `e.g. nightshift schedule create --app ${appPath} --name eu-report --task reports.generate --cron '0 9 * * *'`);
  if (input.schedule === undefined) throw new UsageError('"schedule create" needs --cron or --every', 'e.g. --cron \'0 9 * * mon-fri\' or --every 5m');
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    // The operation checks every field, as for every caller; its errors name the field at fault.
    const view = await schedules.create({ ...input, ...(note !== undefined ? { note } : {}) } as unknown as ScheduleInput, { by: reviewer(io) });
    io.stdout.write(values.json ? `${JSON.stringify(view)}\n` : `created ${JSON.stringify(view.name)}; beat applies it within a second\n${describeEntry(view)}`);
    return 0;
  });
}

/**
 * `nightshift schedule update <name>`: changes the fields given, made against `--version`, else the version read
 * just before: a change someone made in between is never overwritten, it is a conflict.
 */
export async function updateEntry(appPath: string, name: string, values: EntryValues & { readonly version?: string; readonly json: boolean }, io: Io): Promise<number> {
  const patch = entryFields(values, io.cwd, true);
  if (patch.name !== undefined && patch.name !== name) {
    throw new UsageError(`--file names the entry ${JSON.stringify(patch.name)}, not ${JSON.stringify(name)}`, 'an entry cannot be renamed: create one under the new name, then remove the old one');
  }
  delete patch.name;
  if (Object.keys(patch).length === 0) throw new UsageError(`"schedule update ${name}" changes nothing: give the options to change`, 'e.g. --cron \'30 9 * * *\', --every 10m, --args \'["eu"]\', --jitter 30s or --note "why" (nightshift schedule --help lists them)');
  const version = readVersion(values.version);
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    const against = version ?? (await schedules.get(name)).version;
    if (against === null) throw new CodeEntryReadOnlyError(name);
    const view = await schedules.update(name, patch as unknown as SchedulePatch, { by: reviewer(io), version: against });
    io.stdout.write(values.json ? `${JSON.stringify(view)}\n` : `updated ${JSON.stringify(name)} to version ${view.version}; beat applies it within a second\n${describeEntry(view)}`);
    return 0;
  });
}

/** `nightshift schedule remove <name>`: after a yes at the terminal, or with `--yes`. */
export async function removeEntry(appPath: string, name: string, values: { readonly version?: string; readonly yes: boolean; readonly json: boolean }, io: Io): Promise<number> {
  const version = readVersion(values.version);
  return withSchedules(appPath, io, values.json, async ({ schedules }) => {
    // Read first: a name that is not there, or an entry of the code, is refused before anyone is asked.
    const view = await schedules.get(name);
    if (view.source === 'code' || view.version === null) throw new CodeEntryReadOnlyError(name);
    if (!values.yes) {
      const answer = await io.ask(`remove the schedule entry ${JSON.stringify(name)} (${view.task}, ${view.description}; version ${view.version})? No further runs will be sent. [y/N] `);
      if (answer === undefined) {
        throw new UsageError(`"schedule remove ${name}" asks before removing, and nobody is at a terminal to answer`, `add --yes to remove it without asking (nothing was removed)`);
      }
      if (!/^y(es)?$/i.test(answer.trim())) {
        if (!values.json) io.stdout.write(`nothing removed\n`);
        return 1;
      }
    }
    await schedules.remove(name, { by: reviewer(io), version: version ?? view.version });
    io.stdout.write(values.json ? `${JSON.stringify({ name, removed: true, version: version ?? view.version })}\n` : `removed ${JSON.stringify(name)}; beat sends no further runs of it\n`);
    return 0;
  });
}

function readVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const version = Number(text);
  if (!/^\d+$/.test(text) || version < 1) throw new UsageError(`--version ${JSON.stringify(text)} must be a whole number from 1`, 'the version is in nightshift schedule show <name>');
  return version;
}
