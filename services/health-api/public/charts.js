/* global matchMedia, document */
// Charts with uPlot: throughput by outcome, runtime percentiles, queue depth.
import uPlot from '/assets/uplot.mjs';
import { h } from '/assets/preact.mjs';
import { useEffect, useRef } from '/assets/hooks.mjs';

const dark = matchMedia('(prefers-color-scheme: dark)').matches;
const axis = { stroke: dark ? '#98a2b3' : '#667085', grid: { stroke: dark ? '#2a3240' : '#e3e6eb' } };
// The value axis is as wide as its longest label, measured in the axis's font, plus its ticks and gap (uPlot's
// fixed 50 px cut "10,000" to "0,000").
const measure = document.createElement('canvas').getContext('2d');
const valueAxis = {
  ...axis,
  size: (self, values, axisIdx) => {
    if (!values) return 50;
    const { font, ticks, gap } = self.axes[axisIdx];
    measure.font = font[0];
    const ratio = font[1] / font[2] || 1; // uPlot scales the font by the device's pixel ratio
    const widest = Math.max(0, ...values.map((v) => measure.measureText(String(v ?? '')).width / ratio));
    return Math.max(50, Math.ceil(widest + (ticks?.size ?? 10) + (gap ?? 5) + 8));
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
    box.current.plot = plot; // for the tests: its axes' sizes and labels
    return () => plot.destroy();
  }, [JSON.stringify(data)]);
  return h('div', { class: 'panel', ref: box });
}
