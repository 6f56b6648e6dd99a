/* global prompt, confirm */
// The schedule pages: every entry with its health as the alerter judged it and its actions (pause with a note,
// resume, run now), and one entry's detail:
// its definition, paused state, next fire times, recent fires with their outcomes, and a backfill form.
// A runtime entry is created from the list, and changed or removed from its page; the code's are read-only here.
// Values are always children (text), never HTML.
import { useState } from '/assets/hooks.mjs';
import { api, html, navigate } from '/assets/app.js';
import { Err, go, ms, State, useData, when } from '/assets/common.js';
import { EntryForm, entryPath } from '/assets/schedule-form.js';

const pagePath = (name) => `/schedules/${encodeURIComponent(name)}`;
const written = (schedule) => (typeof schedule === 'string' ? schedule : `every ${schedule.every}`);

/** The actions on one entry; `done(message)` after each, with what happened or what went wrong. */
function Actions({ entry, done }) {
  const act = async (action, body) => {
    try {
      const result = await api(`${entryPath(entry.name)}/${action}`, { method: 'POST', body });
      done(action === 'run-now' ? `${entry.name}: run sent (${result.id})` : `${entry.name} ${action === 'pause' ? 'paused' : 'resumed'}`);
    } catch (error) { done(error.message); }
  };
  const pause = () => {
    const note = prompt(`Why pause ${entry.name}? (shown to whoever looks next)`);
    if (note !== null) act('pause', note ? { note } : {});
  };
  return html`<span class="actions">${entry.paused
    ? html`<button data-action="resume" onClick=${() => act('resume', {})}>Resume</button>`
    : html`<button class="plain" data-action="pause" onClick=${pause}>Pause</button>`}
    <button class="plain" data-action="run-now" onClick=${() => act('run-now', {})}>Run now</button></span>`;
}

/** Running, paused (who, when and why on hover), or not dispatched: a stored entry that no longer fits the app. */
const Paused = ({ paused, problem }) => {
  if (problem) return html`<span class="state failed" title=${problem}>not dispatched</span>`;
  return paused
    ? html`<span class="state paused" title=${`by ${paused.by} at ${paused.at}${paused.note ? `: ${paused.note}` : ''}`}>paused</span>`
    : html`<span class="state running">running</span>`;
};

/** How the alerter judged the entry: healthy, overdue, failing, paused or ended, with the cause and times on hover. */
const Health = ({ health }) => {
  if (health == null) return html`<span class="muted" title="not judged: is the alerter running with this app?">—</span>`;
  const times = [health.lastSuccess ? `last success ${new Date(health.lastSuccess).toLocaleString()}` : 'no success seen', health.dueBy ? `due by ${new Date(health.dueBy).toLocaleString()}` : null];
  return html`<span data-health=${health.status} title=${[health.cause, ...times].filter(Boolean).join('; ')}><${State} s=${health.status} />${health.cause ? html` <span class="muted">${health.cause}</span>` : null}</span>`;
};

export function Schedules({ params }) {
  const [data, error, reload] = useData('/api/schedules');
  const [message, setMessage] = useState(params.get('removed') ? `${params.get('removed')} removed` : '');
  const [creating, setCreating] = useState(false);
  const done = (text) => { setMessage(text); reload(); };
  const created = (view) => { setCreating(false); done(`${view.name} created: first run ${view.nextRuns[0] ? new Date(view.nextRuns[0]).toLocaleString() : 'none'}`); };
  return html`<p>Leader: <b>${data == null ? '—' : !data.lease.redisUp ? 'unknown (Redis unreachable)' : data.leader ?? 'none holds the lease'}</b>
    ${data?.lease.expiresInMs != null ? ` (lease held for ${ms(data.lease.expiresInMs)} more unless renewed)` : ''} · last dispatch ${when(data?.lastDispatchAt)}${data?.lastDispatcher ? ` by ${data.lastDispatcher}` : ''} · app zone ${data?.timezone ?? '—'}</p>
    ${data?.runtimeUnavailable ? html`<p class="warn" data-runtime-unavailable>${data.runtimeUnavailable}</p>` : null}
    <div class="bar">${creating ? null : html`<button data-action="new" onClick=${() => setCreating(true)}>New schedule</button>`}<span class="muted" data-result>${message}</span></div><${Err} error=${error} />
    ${creating ? html`<${EntryForm} saved=${created} cancel=${() => setCreating(false)} />` : null}
    <table><thead><tr><th>Entry</th><th>Task</th><th>Queue</th><th>Schedule</th><th>Zone</th><th>Next runs</th><th>Last dispatch</th><th>Lag</th><th>Misfire</th><th>State</th><th>Health</th><th></th></tr></thead>
    <tbody>${(data?.entries ?? []).map((e) => html`<tr data-entry=${e.name}>
      <td><a href=${pagePath(e.name)} onClick=${go(pagePath(e.name))}>${e.name}</a>${e.source === 'runtime' ? html` <span class="muted">runtime</span>` : null}${e.overdueSince ? html` <${State} s="degraded" />` : null}</td>
      <td>${e.task}</td><td>${e.queue}</td><td title=${written(e.schedule)}>${e.description}</td><td>${e.timezone}</td>
      <td>${e.paused ? '—' : e.nextRuns.slice(0, 3).map((t) => new Date(t).toLocaleString()).join(', ')}</td>
      <td>${when(e.lastDispatchedAt)}</td><td>${ms(e.lastLagMs)}</td><td>${typeof e.misfire === 'string' ? e.misfire : e.misfire.policy}</td>
      <td><${Paused} paused=${e.paused} problem=${e.problem} /></td><td><${Health} health=${e.health} /></td><td><${Actions} entry=${e} done=${done} /></td></tr>`)}</tbody></table>`;
}

function Backfill({ name, done }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    try {
      // datetime-local is the browser's zone; the API takes instants.
      const body = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      const result = await api(`${entryPath(name)}/backfill`, { method: 'POST', body });
      done(`backfill: ${result.fireTimes} fire times, ${result.sent} sent, ${result.alreadyThere} already there`);
    } catch (error) { done(error.message); }
  };
  return html`<form onSubmit=${submit} aria-label="backfill"><b>Backfill</b>
    <label>from <input type="datetime-local" step="1" name="from" required value=${from} onInput=${(e) => setFrom(e.target.value)} /></label>
    <label>to <input type="datetime-local" step="1" name="to" required value=${to} onInput=${(e) => setTo(e.target.value)} /></label>
    <button>Send each fire time once</button><span class="muted">fire times already sent are not sent again</span></form>`;
}

/**
 * Edit (unless its form is open) and remove for a runtime entry; for one of the code, where they would be, that it is
 * changed in the code.
 * Remove names the version on the page: a change made meanwhile by someone else refuses it.
 */
function Changes({ entry, edit, done }) {
  if (entry.source === 'code') return html`<span class="muted" data-code-entry>defined in the app's code: changed there, not here</span>`;
  const remove = async () => {
    if (!confirm(`Remove the schedule entry "${entry.name}"? Beat sends no more of its runs; this cannot be undone.`)) return;
    try {
      await api(entryPath(entry.name), { method: 'DELETE', headers: { 'if-match': `"${entry.version}"` } });
      navigate(`/schedules?removed=${encodeURIComponent(entry.name)}`);
    } catch (error) { done(error.message); }
  };
  return html`<span class="actions">${edit ? html`<button class="plain" data-action="edit" onClick=${edit}>Edit</button>` : null}
    <button class="danger" data-action="remove" onClick=${remove}>Remove</button></span>`;
}

export function ScheduleDetail({ path }) {
  const name = decodeURIComponent(path.slice('/schedules/'.length));
  const [entry, error, reload] = useData(entryPath(name));
  const [runs, runsError, reloadRuns] = useData(`${entryPath(name)}/runs?limit=50`);
  const [message, setMessage] = useState('');
  // The entry as it was when Edit was pressed: the form changes that version, whatever the live page shows since.
  const [editing, setEditing] = useState(null);
  const done = (text) => { setMessage(text); reload(); reloadRuns(); };
  const saved = (view) => { setEditing(null); done(`${view.name} saved: version ${view.version}`); };
  if (!entry) return html`<${Err} error=${error} />`;
  const who = (by, at) => (at ? `${by ?? 'someone'}, ${new Date(at).toLocaleString()}` : null);
  const rows = [
    ['task', entry.task], ['args', JSON.stringify(entry.args)], ['kwargs', JSON.stringify(entry.kwargs)], ['schedule', `${written(entry.schedule)}: ${entry.description}`],
    ['zone', entry.timezone], ['queue', entry.queue], ['misfire', typeof entry.misfire === 'string' ? entry.misfire : JSON.stringify(entry.misfire)],
    ['overlap', entry.overlap], ['jitter', entry.jitter], ['starts', entry.startAt], ['ends', entry.endAt], ['expires', entry.expires], ['note', entry.note],
    ['created', who(entry.createdBy, entry.createdAt)], ['changed', who(entry.updatedBy, entry.updatedAt)], ['version', entry.source === 'runtime' ? entry.version : null],
  ].filter(([, value]) => value != null);
  return html`<h2>${entry.name} <${Paused} paused=${entry.paused} problem=${entry.problem} /> <span class="muted">${entry.source === 'code' ? 'in the app\'s code' : 'runtime'}</span></h2>
    ${entry.problem ? html`<p class="error">Not dispatched: ${entry.problem}</p>` : null}
    ${entry.paused ? html`<p data-paused>Paused by <b>${entry.paused.by}</b> at ${new Date(entry.paused.at).toLocaleString()}${entry.paused.note ? html`: <i>${entry.paused.note}</i>` : null}. Runs that fall due are not sent; resuming does not catch them up (backfill does).</p>` : null}
    <div class="bar"><${Actions} entry=${entry} done=${done} /><${Changes} entry=${entry} edit=${editing ? null : () => setEditing(entry)} done=${done} /><span class="muted" data-result>${message}</span></div>
    ${editing ? html`<${EntryForm} entry=${editing} saved=${saved} cancel=${() => setEditing(null)} />` : null}
    <table class="definition"><tbody>${rows.map(([k, v]) => html`<tr><th>${k}</th><td class="mono">${v}</td></tr>`)}</tbody></table>
    <h3>Next fire times</h3>
    <ul>${(runs?.next ?? entry.nextRuns).map((t) => html`<li>${new Date(t).toLocaleString()} <span class="muted mono">${t}</span></li>`)}</ul>
    <${Backfill} name=${entry.name} done=${done} />
    <h3>Recent fires</h3><${Err} error=${runsError} />
    <table><thead><tr><th>Fire time</th><th>Origin</th><th>Fate</th><th>Run</th><th>Late</th><th>Outcome</th><th>Runtime</th><th>By</th></tr></thead>
    <tbody>${(runs?.fires ?? []).map((f) => html`<tr data-fire=${f.fireTime}><td>${new Date(f.fireTime).toLocaleString()}</td><td>${f.origin}</td>
      <td><${State} s=${f.state} />${f.count > 1 ? ` ×${f.count} through ${new Date(f.throughTime).toLocaleString()}` : ''}</td>
      <td class="mono">${f.runId ? html`<a href=${`/tasks/${encodeURIComponent(f.runId)}`} onClick=${go(`/tasks/${encodeURIComponent(f.runId)}`)}>${f.runId}</a>` : '—'}</td>
      <td>${ms(f.latenessMs)}</td><td>${f.run ? html`<${State} s=${f.run.state} />` : '—'}</td><td>${ms(f.run?.runtimeMs)}</td><td>${f.by ?? ''}</td></tr>`)}</tbody></table>`;
}
