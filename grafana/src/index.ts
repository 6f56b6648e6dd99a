// The dashboards, by file name under grafana/dashboards/.
import { beat } from './dashboards/beat.ts';
import { deadLetters } from './dashboards/dead-letters.ts';
import { overview } from './dashboards/overview.ts';
import { tasks } from './dashboards/tasks.ts';
import { workers } from './dashboards/workers.ts';
import type { Dashboard } from './panels.ts';

export { JAEGER, PROMETHEUS } from './panels.ts';
export type { Dashboard };

/** Every dashboard, keyed by its JSON file name. */
export function buildDashboards(): Map<string, Dashboard> {
  return new Map([
    ['overview.json', overview().build()],
    ['tasks.json', tasks().build()],
    ['beat.json', beat().build()],
    ['dead-letters.json', deadLetters().build()],
    ['workers.json', workers().build()],
  ]);
}

/** A dashboard as committed: stable key order from the builder, two-space indent, final newline. */
export const renderDashboard = (dashboard: Dashboard): string => `${JSON.stringify(dashboard, null, 2)}\n`;
