import { resolveTaskSettings, type AnyApp } from '@nightshift/core';
import type { ScheduleEntry } from './entry.ts';

/**
 * The queue an entry's runs are sent to: its own `queue`, else its task's (task, then app defaults, then
 * `default`). Beat declares these at start-up; the health-api shows them.
 * @throws Error when the entry's task is not the app's (`compileScheduleEntries` rules that out).
 */
export function entryQueue(app: AnyApp, entry: ScheduleEntry): string {
  if (entry.queue !== undefined) return entry.queue;
  const task = app.task(entry.task);
  if (task === undefined) throw new Error(`entry ${entry.name}: app "${app.name}" has no task ${entry.task}`);
  return resolveTaskSettings(app, task).queue;
}
