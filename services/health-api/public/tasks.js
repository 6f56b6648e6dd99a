/* global URLSearchParams, confirm */
// Tasks: the history list (filters, sorting), sending a task (behind its own button), and a task's own page.
import { useState } from '/assets/hooks.mjs';
import { api, html } from '/assets/app.js';
import { Copy, Err, go, isoTime, ms, State, timeZone, useData } from '/assets/common.js';
import { RevokeButton } from '/assets/workers.js';
import { AttemptLogs, Progress } from '/assets/task-journal.js';

const STATES = ['sent', 'received', 'started', 'failed', 'retried', 'succeeded', 'dead-lettered', 'revoked'];
/** The states a run can be retried from (the API refuses the others); the page shows their final error first. */
const RETRYABLE = ['failed', 'dead-lettered', 'revoked'];

/** Sending a task by name: a form of its own, opened by its button, with its own labels, so it is never mistaken for the filter. */
function SendTask({ onSent }) {
  const [open, setOpen] = useState(false);
  const [task, setTask] = useState('');
  const [args, setArgs] = useState('[]');
  const [message, setMessage] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    let parsed;
    try { parsed = JSON.parse(args || '[]'); } catch { setMessage('arguments: not JSON (e.g. ["usage"])'); return; }
    try {
      const sent = await api('/api/tasks', { method: 'POST', body: { task, args: parsed } });
      setMessage(`sent ${sent.id}`);
      onSent?.();
    } catch (error) { setMessage(error.message); }
  };
  if (!open) return html`<div class="bar"><button type="button" data-open-send onClick=${() => setOpen(true)}>Send a task…</button></div>`;
  return html`<form class="send" onSubmit=${submit} aria-label="send a task"><b>Send a task</b>
    <label>Task to send <input name="task" placeholder="e.g. echo" required value=${task} onInput=${(e) => setTask(e.target.value)} /></label>
    <label>Arguments (JSON array) <input name="args" placeholder='e.g. ["usage"]' value=${args} onInput=${(e) => setArgs(e.target.value)} size="40" /></label>
    <button>Send task</button><button type="button" class="plain" onClick=${() => { setOpen(false); setMessage(''); }}>Close</button><span class="muted" data-sent>${message}</span></form>`;
}

const RANGES = [['', 'any time'], ['15m', 'last 15 minutes'], ['1h', 'last hour'], ['24h', 'last 24 hours'], ['7d', 'last 7 days'], ['custom', 'from … to …']];
const COLUMNS = [['id', 'Id'], ['name', 'Task'], ['state', 'State'], ['queue', 'Queue'], [null, 'Args'], ['attempt', 'Attempt'], ['worker', 'Worker'], ['sent', 'Sent'], ['runtime', 'Runtime'], ['error', 'Error']];

/** A `datetime-local` value read in the zone the times are shown in. */
function fromInput(value) {
  if (!value) return '';
  const d = timeZone() === 'utc' ? new Date(`${value}Z`) : new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** The list's query string: filters, time range, sort and page. */
function listQuery(f, sort, after) {
  const range = f.range === 'custom' ? { since: fromInput(f.from), until: fromInput(f.to) } : { since: f.range };
  const name = f.name.trim();
  const nameKey = { contains: 'nameContains', prefix: 'nameStartsWith', exact: 'name' }[f.match];
  return new URLSearchParams(Object.entries({
    state: f.state, queue: f.queue, id: f.id.trim(), [nameKey]: name, ...range,
    ...(sort.by === 'sent' && sort.order === 'desc' ? {} : { sort: sort.by, order: sort.order }), limit: '50', after: after ?? '',
  }).filter(([, v]) => v)).toString();
}

export function Tasks({ params }) {
  const [filters, setFilters] = useState({ state: params.get('state') ?? '', name: params.get('name') ?? '', match: 'contains', id: '', queue: params.get('queue') ?? '', range: '', from: '', to: '' });
  const [sort, setSort] = useState({ by: 'sent', order: 'desc' });
  const [cursor, setCursor] = useState([]);
  const [data, error] = useData(`/api/tasks?${listQuery(filters, sort, cursor.at(-1))}`, cursor.length === 0);
  const [queues] = useData('/api/queues', false);
  const set = (key) => (e) => { setCursor([]); setFilters({ ...filters, [key]: e.target.value }); };
  const sortBy = (by) => { setCursor([]); setSort(sort.by === by ? { by, order: sort.order === 'desc' ? 'asc' : 'desc' } : { by, order: by === 'sent' || by === 'runtime' || by === 'attempt' ? 'desc' : 'asc' }); };
  const header = ([key, title]) => {
    if (key === null) return html`<th>${title}</th>`;
    const on = sort.by === key;
    return html`<th aria-sort=${on ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none'}><button type="button" class="sort" data-sort=${key} title=${`sort by ${title.toLowerCase()}`} onClick=${() => sortBy(key)}>${title}${on ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ''}</button></th>`;
  };
  const queueNames = [...new Set([...(queues?.items ?? []).map((q) => q.name), filters.queue].filter(Boolean))];
  return html`<${SendTask} />
    <form class="filters" aria-label="filter tasks" onSubmit=${(e) => e.preventDefault()}><b>Filter</b>
      <label>Task name <select name="match" aria-label="how the name matches" value=${filters.match} onChange=${set('match')}><option value="contains">contains</option><option value="prefix">starts with</option><option value="exact">is exactly</option></select>
        <input name="filter-name" type="search" aria-label="filter by task name" placeholder="e.g. rep" value=${filters.name} onInput=${set('name')} /></label>
      <label>State <select name="state" value=${filters.state} onChange=${set('state')}><option value="">any state</option>${STATES.map((s) => html`<option>${s}</option>`)}</select></label>
      <label>Queue <select name="queue" value=${filters.queue} onChange=${set('queue')}><option value="">any queue</option>${queueNames.map((q) => html`<option>${q}</option>`)}</select></label>
      <label>Sent <select name="range" value=${filters.range} onChange=${set('range')}>${RANGES.map(([v, t]) => html`<option value=${v}>${t}</option>`)}</select></label>
      ${filters.range === 'custom' ? html`<label>from <input name="from" type="datetime-local" step="1" value=${filters.from} onChange=${set('from')} /></label><label>to <input name="to" type="datetime-local" step="1" value=${filters.to} onChange=${set('to')} /></label><span class="muted">(${timeZone() === 'utc' ? 'UTC' : 'your zone'})</span>` : null}
      <label>Id starts with <input name="filter-id" type="search" value=${filters.id} onInput=${set('id')} /></label>
    </form>
    <div class="bar">
      ${cursor.length > 0 ? html`<button class="plain" onClick=${() => setCursor(cursor.slice(0, -1))}>Newer</button>` : null}
      ${data?.next ? html`<button class="plain" onClick=${() => setCursor([...cursor, data.next])}>Older</button>` : null}</div>
    <${Err} error=${error} />
    <table class="runs"><thead><tr>${COLUMNS.map(header)}</tr></thead>
    <tbody>${(data?.items ?? []).map((r) => html`<tr data-run=${r.id}><td class="mono id"><a href=${`/tasks/${encodeURIComponent(r.id)}`} onClick=${go(`/tasks/${encodeURIComponent(r.id)}`)}>${r.id}</a> <${Copy} text=${r.id} /></td><td>${r.name}</td><td><${State} s=${r.state} /></td><td>${r.queue ?? '—'}</td>
      <td class="mono args">${JSON.stringify(r.args)}</td><td>${r.attempt}/${r.maxAttempts ?? '?'}</td><td class="mono nowrap">${r.worker ?? '—'}</td><td class="nowrap">${isoTime(r.sentAt)}</td><td class="nowrap">${ms(r.runtimeMs)}</td><td>${r.errorClass ? `${r.errorClass}: ${r.errorMessage}` : ''}</td></tr>`)}</tbody></table>
    ${data && data.items.length === 0 ? html`<p class="muted" data-empty>No task runs match.</p>` : null}`;
}

/** A run's attempts, one row each: how it ended, where, how long, and why (the stack one click away). */
export function attemptsOf(run) {
  const byAttempt = new Map();
  for (const e of run.timeline) {
    if (e.type === 'sent') continue;
    const attempt = byAttempt.get(e.attempt) ?? { attempt: e.attempt, events: [], worker: null, startedAt: null, endedAt: null, outcome: null, runtimeMs: null, error: null };
    attempt.events.push(e);
    attempt.worker = e.worker ?? attempt.worker;
    if (e.type === 'started' || (e.type === 'received' && !attempt.startedAt)) attempt.startedAt = e.at;
    if (['succeeded', 'failed', 'failed (final)', 'retried', 'dead-lettered', 'revoked'].includes(e.type)) {
      attempt.endedAt = e.at;
      // A failure followed by its retry or dead letter ends as the latter; the error is the failure's.
      attempt.outcome = e.type;
    }
    if (typeof e.detail?.runtimeMs === 'number') attempt.runtimeMs = e.detail.runtimeMs;
    if (e.detail?.error) attempt.error = e.detail.error;
    byAttempt.set(e.attempt, attempt);
  }
  return [...byAttempt.values()].sort((a, b) => a.attempt - b.attempt).map((a) => ({
    ...a,
    outcome: a.outcome ?? a.events.at(-1)?.type ?? 'sent',
    durationMs: a.runtimeMs ?? (a.startedAt && a.endedAt ? Date.parse(a.endedAt) - Date.parse(a.startedAt) : null),
  }));
}

function Attempts({ run }) {
  const attempts = attemptsOf(run);
  if (attempts.length === 0) return html`<p class="muted">No attempt yet.</p>`;
  return html`<table class="attempts"><thead><tr><th>Attempt</th><th>State</th><th>Worker</th><th>Started</th><th>Duration</th><th>Error</th></tr></thead>
    <tbody>${attempts.map((a) => html`<tr data-attempt=${a.attempt}><td>${a.attempt}</td><td><${State} s=${a.outcome} /></td><td class="mono nowrap">${a.worker ?? '—'}</td><td class="nowrap">${isoTime(a.startedAt)}</td><td class="nowrap">${ms(a.durationMs)}</td>
      <td>${a.error ? html`<span class="error-class">${a.error.name}</span>: ${a.error.message}${a.error.stack ? html`<details class="stack"><summary>stack</summary><pre>${a.error.stack}</pre></details>` : null}` : ''}</td></tr>`)}</tbody></table>`;
}

/** Where the run came from, in words, linking the run it retries or the dead letter it replays. */
function Origin({ origin }) {
  if (!origin) return '—';
  if (origin.type === 'retry') return html`<span data-origin="retry">retry of <a href=${`/tasks/${encodeURIComponent(origin.retryOf)}`} onClick=${go(`/tasks/${encodeURIComponent(origin.retryOf)}`)}>${origin.retryOf}</a> by ${origin.by}</span>`;
  if (origin.type === 'replay') return html`<span>replay of dead letter <a href=${`/dead-letters/${encodeURIComponent(origin.deadLetterId)}`} onClick=${go(`/dead-letters/${encodeURIComponent(origin.deadLetterId)}`)}>${origin.deadLetterId}</a> (task <a href=${`/tasks/${encodeURIComponent(origin.originalId)}`} onClick=${go(`/tasks/${encodeURIComponent(origin.originalId)}`)}>${origin.originalId}</a>)</span>`;
  return JSON.stringify(origin);
}

export function TaskDetail({ path }) {
  const id = decodeURIComponent(path.slice('/tasks/'.length));
  const [run, error, reload] = useData(`/api/tasks/${encodeURIComponent(id)}`);
  const [letters] = useData(`/api/dead-letters?taskId=${encodeURIComponent(id)}`, false); // its dead letter, if it died
  const [message, setMessage] = useState(null);
  if (!run) return html`<${Err} error=${error} />`;
  const retry = async () => {
    if (!confirm(`Retry ${run.name} ${run.id}?\n\nA new task run is sent with the same arguments and a new id; this one stays ${run.state}.`)) return;
    try {
      const sent = await api(`/api/tasks/${encodeURIComponent(id)}/retry`, { method: 'POST', body: {} });
      setMessage({ ok: true, id: sent.id });
      reload();
    } catch (e) { setMessage({ ok: false, text: e.message }); }
  };
  const link = (to) => html`<a href=${`/tasks/${encodeURIComponent(to)}`} onClick=${go(`/tasks/${encodeURIComponent(to)}`)}>${to}</a>`;
  return html`<h2>${run.name} <${State} s=${run.state} /></h2><p class="mono">${run.id} <${Copy} text=${run.id} label="Copy id" /></p>
    <div class="bar">${RETRYABLE.includes(run.state) ? html`<button data-retry onClick=${retry}>Retry…</button>` : null}<${RevokeButton} id=${run.id} state=${run.state} />${(letters?.items ?? []).map((d) => html`<a data-dead-letter-link href=${`/dead-letters/${d.id}`} onClick=${go(`/dead-letters/${d.id}`)}>dead letter #${d.id} (${d.status})</a>`)}${run.origin?.type === 'replay' ? html`<a data-replay-of href=${`/dead-letters/${run.origin.deadLetterId}`} onClick=${go(`/dead-letters/${run.origin.deadLetterId}`)}>replay of dead letter #${run.origin.deadLetterId}</a>` : null}${run.traceUrl ? html`<a href=${run.traceUrl} target="_blank" rel="noopener">trace ${run.traceId}</a>` : run.traceId ? html`<span class="mono">trace ${run.traceId}</span>` : null}
      ${message ? (message.ok ? html`<span data-result>retried as ${link(message.id)}</span>` : html`<span class="error" data-result>${message.text}</span>`) : null}</div>
    <${Progress} run=${run} />
    <table class="definition"><tbody>${[['args', JSON.stringify(run.args)], ['kwargs', JSON.stringify(run.kwargs)], ['queue', run.queue], ['attempt', `${run.attempt}/${run.maxAttempts}`], ['worker', run.worker],
      ['sent', isoTime(run.sentAt)], ['started', isoTime(run.startedAt)], ['finished', isoTime(run.finishedAt)], ['runtime', ms(run.runtimeMs)], ['result', JSON.stringify(run.result)]]
      .map(([k, v]) => html`<tr><th>${k}</th><td class="mono">${v ?? '—'}</td></tr>`)}
      <tr><th>origin</th><td class="mono" data-field="origin"><${Origin} origin=${run.origin} /></td></tr>
      ${run.retries?.length ? html`<tr><th>retried as</th><td class="mono" data-field="retries">${run.retries.map((r, i) => html`${i ? ', ' : ''}${link(r.id)} <${State} s=${r.state} /> by ${r.by ?? '?'} at ${isoTime(r.sentAt)}`)}</td></tr>` : null}</tbody></table>
    ${run.errorClass && RETRYABLE.includes(run.state) ? html`<h3>${run.errorClass}: ${run.errorMessage}</h3><pre class="traceback">${run.errorStack}</pre>` : null}
    <h3>Attempts</h3><${Attempts} run=${run} />
    ${run.timeline.filter((e) => e.type === 'logged').map((e) => html`<div class="attempt-logs" data-attempt-logs=${e.attempt}><b>Log of attempt ${e.attempt}</b><${AttemptLogs} detail=${e.detail} /></div>`)}
    <details class="events"><summary>Every event (${run.timeline.length})</summary>
      <table><tbody>${run.timeline.map((e) => html`<tr><td class="nowrap">${isoTime(e.at)}</td><td><${State} s=${e.type} /></td><td>attempt ${e.attempt}</td><td class="mono nowrap">${e.worker ?? ''}</td><td>${e.detail?.error ? `${e.detail.error.name}: ${e.detail.error.message}` : ''}</td></tr>`)}</tbody></table></details>`;
}
