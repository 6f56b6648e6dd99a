import { ConfigError, type AnyApp } from '@nightshift/core';
import { checkScheduleEntries } from '@nightshift/schedule';

/**
 * Checks the app's schedule as beat does at start-up, and as `nightshift schedule explain` shows it, so that
 * a command that would start beat refuses at once rather than leave beat to exit.
 * @param appPath the `--app` as given, for the hint.
 * @param consequence what the refusal means, e.g. `nothing was started`.
 * @throws ConfigError naming every invalid entry and what is wrong with it.
 */
export function assertScheduleValid(app: AnyApp, appPath: string, consequence: string): void {
  const { problems } = checkScheduleEntries(app.schedule, app.tasks.map((task) => task.name));
  if (problems.length === 0) return;
  const invalid = `${problems.length} of ${app.schedule.length} schedule entries of app "${app.name}" ${problems.length === 1 ? 'is' : 'are'} invalid`;
  throw new ConfigError([
    `${invalid}, so ${consequence}:`,
    ...problems.map((problem) => `  ${problem.message}`),
    `nightshift schedule explain --app ${appPath} shows the schedule as beat reads it`,
  ].join('\n'), { field: 'schedule' });
}
