// The building blocks every Nightshift dashboard shares: the provisioned data sources, the template
// variables, and panels with one PromQL query each, so a test can run every query a dashboard shows.
import { DashboardBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { VizLegendOptionsBuilder, LegendDisplayMode, LegendPlacement } from '@grafana/grafana-foundation-sdk/common';

/** The uids grafana/provisioning/datasources/nightshift.yml gives the data sources. */
export const PROMETHEUS = { type: 'prometheus', uid: 'nightshift-prometheus' } as const;
export const JAEGER = { type: 'jaeger', uid: 'nightshift-jaeger' } as const;

/** One query of a panel: PromQL and how each series is named in the legend. */
export interface Query { expr: string; legend?: string }

const target = ({ expr, legend }: Query, index: number, instant = false) => {
  const query = new DataqueryBuilder().datasource(PROMETHEUS).refId(String.fromCharCode(65 + index)).expr(expr);
  if (legend !== undefined) query.legendFormat(legend);
  return instant ? query.instant().format(PromQueryFormat.Table) : query.range();
};

const legend = () => new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).calcs([]);

/** A time series panel. `unit` is a Grafana unit id (`ops`, `s`, `percentunit`, `short`). */
export function timeseries(title: string, description: string, unit: string, queries: Query[]): TimeseriesPanel {
  return new TimeseriesPanel().title(title).description(description).datasource(PROMETHEUS).unit(unit).legend(legend())
    .targets(queries.map((q, i) => target(q, i))).height(8).span(12);
}

/** A single number (the last value), e.g. workers online. */
export function stat(title: string, description: string, unit: string, query: Query): StatPanel {
  return new StatPanel().title(title).description(description).datasource(PROMETHEUS).unit(unit)
    .targets([target(query, 0)]).height(4).span(6);
}

/** A table of the current values, one row per series. */
export function table(title: string, description: string, unit: string, query: Query): TablePanel {
  return new TablePanel().title(title).description(description).datasource(PROMETHEUS).unit(unit)
    .targets([target(query, 0, true)]).height(8).span(12);
}

export const row = (title: string) => new RowBuilder(title);

/** `$task`: task names, from the workers' counters (multi-select, All = every task). */
export const taskVariable = () => variable('task', 'Task', 'label_values(nightshift_tasks_total, task)');
/** `$queue`: task queues, from the health-api's queue gauges (multi-select, All = every queue). */
export const queueVariable = () => variable('queue', 'Queue', 'label_values(nightshift_queue_depth, queue)');

function variable(name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name).label(label).datasource(PROMETHEUS).query(query).definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged).multi(true).includeAll(true).allValue('.*')
    .current({ selected: true, text: 'All', value: '$__all' });
}

/** A dashboard with Nightshift's defaults: last hour, refresh every 30s, tagged `nightshift`. */
export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title).uid(uid).description(description).tags(['nightshift']).timezone('browser')
    .time({ from: 'now-1h', to: 'now' }).refresh('30s').editable();
}

export type { Dashboard };
