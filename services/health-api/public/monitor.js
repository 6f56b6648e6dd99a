// Monitor: throughput, runtime and queue depth over the last hour.
import { html } from '/assets/app.js';
import { Chart } from '/assets/charts.js';
import { Err, useData } from '/assets/common.js';

export function Monitor() {
  const [data, error] = useData('/api/monitor?since=1h&bucket=1m');
  if (!data) return html`<${Err} error=${error} />`;
  // Every bucket of the window, empty ones as zero, so a quiet hour still has a time axis.
  const step = data.bucketMs / 1000;
  const start = Math.floor(Date.parse(data.since) / 1000 / step) * step;
  const t = [];
  for (let at = start; at <= Date.now() / 1000; at += step) t.push(at);
  const byTime = new Map(data.series.map((b) => [Date.parse(b.at) / 1000, b]));
  const pick = (key, empty) => t.map((at) => byTime.get(at)?.[key] ?? empty);
  const queues = [...new Set(data.depth.flatMap((d) => Object.keys(d.depths)))];
  const colors = ['#3b5bdb', '#2f9e44', '#e67700', '#e03131', '#7048e8', '#1098ad'];
  return html`<div class="charts">
    <${Chart} title="Throughput per minute" series=${[['succeeded', '#2f9e44'], ['failed', '#e03131'], ['retried', '#e67700']]} data=${[t, pick('succeeded', 0), pick('failed', 0), pick('retried', 0)]} />
    <${Chart} title="Runtime (ms)" series=${[['p50', '#3b5bdb'], ['p95', '#e67700'], ['p99', '#e03131']]} data=${[t, pick('p50Ms', null), pick('p95Ms', null), pick('p99Ms', null)]} />
    <${Chart} title="Queue depth" series=${queues.map((q, i) => [q, colors[i % colors.length]])} data=${[data.depth.map((d) => Date.parse(d.at) / 1000), ...queues.map((q) => data.depth.map((d) => d.depths[q] ?? null))]} />
  </div>`;
}
