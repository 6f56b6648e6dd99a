/* global matchMedia */
// Charts with uPlot: throughput by outcome, runtime percentiles, queue depth.
import uPlot from '/assets/uplot.mjs';
import { h } from '/assets/preact.mjs';
import { useEffect, useRef } from '/assets/hooks.mjs';

const dark = matchMedia('(prefers-color-scheme: dark)').matches;
const axis = { stroke: dark ? '#98a2b3' : '#667085', grid: { stroke: dark ? '#2a3240' : '#e3e6eb' } };
// The value axis is as wide as its longest label (uPlot's default of 50 px cut "10,000" to "0,000").
const valueAxis = {
  ...axis,
  size: (self, values) => {
    if (!values) return 50;
    const longest = Math.max(0, ...values.map((v) => String(v ?? '').length));
    return Math.max(50, Math.ceil(longest * 7.5) + 22);
  },
};

export function Chart({ title, series, data }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const plot = new uPlot({
      title, width: box.current.clientWidth || 500, height: 220, axes: [axis, valueAxis],
      series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
    }, data, box.current);
    return () => plot.destroy();
  }, [JSON.stringify(data)]);
  return h('div', { class: 'panel', ref: box });
}
