// A task's own reports on its page: the progress bar of a running attempt (`ctx.progress`) and the lines an
// attempt logged (`ctx.log`). Text only, as everywhere: a logged line is never read as HTML.
import { html } from '/assets/app.js';

/** The latest progress report, while the attempt that made it runs (or as it was left, once it ended). */
export function Progress({ run }) {
  const p = run.progress;
  if (!p) return null;
  const percent = Math.round(p.fraction * 100);
  const live = run.state === 'started' && p.attempt === run.attempt;
  return html`<div class="progress" data-progress=${percent}>
    <progress max="100" value=${percent} aria-label="progress"></progress>
    <span>${percent} %${p.message ? ` · ${p.message}` : ''}</span>
    <span class="muted">${live ? '' : ` (last report of attempt ${p.attempt})`}</span></div>`;
}

/** What one attempt logged: level, time and text, the logged fields one click away. */
export function AttemptLogs({ detail }) {
  const lines = detail.lines ?? [];
  return html`<details class="logs" open=${lines.length <= 5}><summary>${lines.length} line${lines.length === 1 ? '' : 's'} logged${detail.dropped ? ` (${detail.dropped} more not kept)` : ''}</summary>
    <table class="log-lines"><tbody>${lines.map((line) => html`<tr class=${`log ${line.level}`}><td class="mono">${line.at.slice(11, 23)}</td><td>${line.level}</td>
      <td class="mono">${line.msg}${line.fields ? html`<div class="muted">${JSON.stringify(line.fields)}</div>` : null}</td></tr>`)}</tbody></table></details>`;
}
