// Every PromQL query a dashboard runs, with Grafana's variables substituted the way Grafana would.
import type { Dashboard } from '../src/index.ts';

export interface PanelQuery { dashboard: string; panel: string; expr: string; datasource: string | undefined }

interface PanelLike { title?: string; type?: string; panels?: PanelLike[]; targets?: { expr?: string; datasource?: { uid?: string } }[] }

export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  const found: PanelQuery[] = [];
  const visit = (panels: PanelLike[]) => {
    for (const panel of panels) {
      if (panel.panels) visit(panel.panels);
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined) found.push({ dashboard: dashboard.title ?? '', panel: panel.title ?? '', expr: target.expr, datasource: target.datasource?.uid });
      }
    }
  };
  visit((dashboard.panels ?? []) as PanelLike[]);
  return found;
}

/** The dashboards' `label_values(metric, label)` variables: name → [metric, label]. */
export function variableQueries(dashboard: Dashboard): Map<string, [string, string]> {
  const variables = new Map<string, [string, string]>();
  for (const variable of dashboard.templating?.list ?? []) {
    const match = /^label_values\((\w+),\s*(\w+)\)$/.exec(String(variable.query ?? ''));
    if (match?.[1] && match[2]) variables.set(variable.name, [match[1], match[2]]);
  }
  return variables;
}

/** Replaces `$name` with `values[name]` and Grafana's interval variables with what a 5-minute view uses. */
export function substitute(expr: string, values: ReadonlyMap<string, string>): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '5m')
    .replace(/\$(\w+)/g, (whole, name: string) => values.get(name) ?? whole);
}
