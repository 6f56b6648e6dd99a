/* global URLSearchParams, prompt */
// The dashboard's pages. Values are always children (text), never HTML.
import { useState } from '/assets/hooks.mjs';
import { api, html } from '/assets/app.js';
import { Chart } from '/assets/charts.js';
import { Err, go, ms, State, useData, when } from '/assets/common.js';
import { ScheduleDetail, Schedules } from '/assets/schedules.js';

const Card = ({ label, value, note }) => html`<div class="card"><div class="l">${label}</div><div class="n">${value ?? '—'}</div>${note ? html`<div class="note">${note}</div>` : null}</div>`;

function Overview() {
  const [o, error] = useData('/api/overview');
  if (!o) return html`<${Err} error=${error} />`;
  const rate = o.lastHour.successRate == null ? '—' : `${(o.lastHour.successRate * 100).toFixed(1)}%`;
  return html`<${Err} error=${error} />
    <div class="cards">
      <${Card} label="Succeeded (1h)" value=${o.lastHour.succeeded} /><${Card} label="Failed (1h)" value=${o.lastHour.failed} />
      <${Card} label="Retried (1h)" value=${o.lastHour.retried} /><${Card} label="Active" value=${o.workers.active} />
      <${Card} label="Success rate" value=${rate} /><${Card} label="Workers online" value=${o.workers.online} />
      <${Card} label="Backlog" value=${o.backlog} /><${Card} label="Dead letters pending" value=${o.deadLettersPending} />
      <${Card} label="Beat leader" ...${beatLeader(o.beat)} />
    </div>
    <div class="panel"><b>Health: </b><${State} s=${o.health.status} />
      <ul>${o.health.reasons.map((r) => html`<li>${r}</li>`)}</ul></div>`;
}

/** The beat card: who holds the lease (the value) and what beat last did (the note). */
function beatLeader(beat) {
  if (!beat.redisUp) return { value: 'unknown', note: 'Redis is unreachable' };
  if (!beat.leader) return { value: 'none', note: beat.scheduled ? 'scheduled runs are not sent' : 'no schedule' };
  return { value: beat.leader, note: beat.lastDispatchAgeMs == null ? 'no dispatch seen yet' : `dispatched ${ms(beat.lastDispatchAgeMs)} ago` };
}

function Workers() {
  const [data, error] = useData('/api/workers');
  return html`<${Err} error=${error} /><table><thead><tr><th>Worker</th><th>Status</th><th>Active</th><th>Reserved</th><th>Processed</th><th>Concurrency</th><th>Queues</th><th>Host / pid</th><th>Version</th><th>Uptime</th><th>Last seen</th></tr></thead>
    <tbody>${(data?.items ?? []).map((w) => html`<tr><td class="mono">${w.name}</td><td><${State} s=${w.status} /></td><td>${w.active}</td><td>${w.reserved}</td><td>${w.processed}</td>
      <td>${w.concurrency} ${w.pool}</td><td>${w.queues.join(', ')}</td><td>${w.host} / ${w.pid}</td><td>${w.version}</td><td>${ms(w.uptimeMs)}</td><td>${when(w.lastSeen)}</td></tr>`)}</tbody></table>`;
}

function SendTask({ onSent }) {
  const [task, setTask] = useState('');
  const [args, setArgs] = useState('[]');
  const [message, setMessage] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    try {
      const sent = await api('/api/tasks', { method: 'POST', body: { task, args: JSON.parse(args || '[]') } });
      setMessage(`sent ${sent.id}`);
      onSent?.();
    } catch (error) { setMessage(error.message); }
  };
  return html`<form onSubmit=${submit} aria-label="send a task"><b>Send</b><input name="task" placeholder="task name" value=${task} onInput=${(e) => setTask(e.target.value)} />
    <input name="args" placeholder='args, e.g. ["usage"]' value=${args} onInput=${(e) => setArgs(e.target.value)} size="40" /><button>Send</button><span class="muted" data-sent>${message}</span></form>`;
}

function Tasks({ params }) {
  const [filters, setFilters] = useState({ state: params.get('state') ?? '', name: '', id: '' });
  const [cursor, setCursor] = useState([]);
  const query = new URLSearchParams(Object.entries({ ...filters, limit: '50', after: cursor.at(-1) ?? '' }).filter(([, v]) => v)).toString();
  const [data, error] = useData(`/api/tasks?${query}`, cursor.length === 0);
  const set = (key) => (e) => { setCursor([]); setFilters({ ...filters, [key]: e.target.value }); };
  return html`<${SendTask} />
    <div class="bar"><select value=${filters.state} onChange=${set('state')}><option value="">any state</option>${['sent', 'received', 'started', 'failed', 'retried', 'succeeded', 'dead-lettered', 'revoked'].map((s) => html`<option>${s}</option>`)}</select>
      <input placeholder="task name" value=${filters.name} onChange=${set('name')} /><input placeholder="search by id" value=${filters.id} onChange=${set('id')} />
      ${cursor.length > 0 ? html`<button class="plain" onClick=${() => setCursor(cursor.slice(0, -1))}>Newer</button>` : null}
      ${data?.next ? html`<button class="plain" onClick=${() => setCursor([...cursor, data.next])}>Older</button>` : null}</div>
    <${Err} error=${error} />
    <table><thead><tr><th>Id</th><th>Task</th><th>State</th><th>Args</th><th>Attempt</th><th>Worker</th><th>Sent</th><th>Runtime</th><th>Error</th></tr></thead>
    <tbody>${(data?.items ?? []).map((r) => html`<tr data-run=${r.id}><td class="mono"><a href=${`/tasks/${r.id}`} onClick=${go(`/tasks/${r.id}`)}>${r.id.slice(0, 13)}</a></td><td>${r.name}</td><td><${State} s=${r.state} /></td>
      <td class="mono">${JSON.stringify(r.args)}</td><td>${r.attempt}/${r.maxAttempts ?? '?'}</td><td class="mono">${r.worker}</td><td>${when(r.sentAt)}</td><td>${ms(r.runtimeMs)}</td><td>${r.errorClass ? `${r.errorClass}: ${r.errorMessage}` : ''}</td></tr>`)}</tbody></table>`;
}

function TaskDetail({ path }) {
  const id = decodeURIComponent(path.slice('/tasks/'.length));
  const [run, error] = useData(`/api/tasks/${encodeURIComponent(id)}`);
  if (!run) return html`<${Err} error=${error} />`;
  const revoke = () => api(`/api/tasks/${encodeURIComponent(id)}/revoke`, { method: 'POST', body: { terminate: true } });
  return html`<h2>${run.name} <${State} s=${run.state} /></h2><p class="mono">${run.id}</p>
    <div class="bar"><button class="plain" onClick=${revoke}>Revoke</button>${run.traceUrl ? html`<a href=${run.traceUrl} target="_blank" rel="noopener">trace ${run.traceId}</a>` : run.traceId ? html`<span class="mono">trace ${run.traceId}</span>` : null}</div>
    <table><tbody>${[['args', JSON.stringify(run.args)], ['kwargs', JSON.stringify(run.kwargs)], ['queue', run.queue], ['attempt', `${run.attempt}/${run.maxAttempts}`], ['worker', run.worker],
      ['sent', run.sentAt], ['started', run.startedAt], ['finished', run.finishedAt], ['runtime', ms(run.runtimeMs)], ['result', JSON.stringify(run.result)], ['origin', JSON.stringify(run.origin)]]
      .map(([k, v]) => html`<tr><th>${k}</th><td class="mono">${v ?? '—'}</td></tr>`)}</tbody></table>
    ${run.errorClass ? html`<h3>${run.errorClass}: ${run.errorMessage}</h3><pre class="traceback">${run.errorStack}</pre>` : null}
    <h3>Timeline</h3><table><tbody>${run.timeline.map((e) => html`<tr><td>${when(e.at)}</td><td><${State} s=${e.type} /></td><td>attempt ${e.attempt}</td><td class="mono">${e.worker}</td><td class="mono">${JSON.stringify(e.detail)}</td></tr>`)}</tbody></table>`;
}

function Queues() {
  const [data, error] = useData('/api/queues');
  const rate = (n) => (n == null ? '—' : `${n.toFixed(1)}/s`);
  return html`<${Err} error=${error} /><table><thead><tr><th>Queue</th><th>Depth</th><th>Consumers</th><th>Publish</th><th>Deliver</th><th>Checked</th></tr></thead>
    <tbody>${(data?.items ?? []).map((q) => html`<tr><td>${q.name}</td><td>${q.depth}</td><td>${q.consumers}</td><td>${rate(q.publishRate)}</td><td>${rate(q.deliverRate)}</td><td>${when(q.checkedAt)}</td></tr>`)}</tbody></table>
    ${data?.items.some((q) => q.rates === 'estimated' && !q.missing) ? html`<p class="muted">Rates are estimated from depths and task events: RabbitMQ's management API cannot be read (see NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL).</p>` : null}`;
}

function DeadLetters() {
  const [status, setStatus] = useState('pending');
  const [data, error, reload] = useData(`/api/dead-letters?status=${status}`);
  const [message, setMessage] = useState('');
  const act = async (id, action) => {
    try {
      // The dashboard's ignore replaces an earlier review, as a reviewer sees the letter before acting on it.
      const body = action === 'ignore' ? { note: prompt('Why ignore it?') ?? '', force: true } : {};
      await api(`/api/dead-letters/${id}/${action}`, { method: 'POST', body });
      setMessage(`#${id} ${action === 'ignore' ? 'ignored' : 'requeued'}`);
      reload();
    } catch (e) { setMessage(e.message); }
  };
  return html`<div class="bar"><select value=${status} onChange=${(e) => setStatus(e.target.value)}>${['pending', 'requeued', 'ignored'].map((s) => html`<option>${s}</option>`)}</select><span class="muted" data-result>${message}</span></div>
    <${Err} error=${error} /><table><thead><tr><th>#</th><th>Task</th><th>Reason</th><th>Error</th><th>Attempts</th><th>Died</th><th></th></tr></thead>
    <tbody>${(data?.items ?? []).map((d) => html`<tr data-dead-letter=${d.id}><td>${d.id}</td><td>${d.task}</td><td>${d.reason}</td><td>${d.errorClass}: ${d.errorMessage}</td><td>${d.attempts}</td><td>${when(d.lastFailedAt)}</td>
      <td>${d.status === 'pending' ? html`<button onClick=${() => act(d.id, 'requeue')}>Requeue</button> <button class="plain" onClick=${() => act(d.id, 'ignore')}>Ignore</button>` : d.status}</td></tr>`)}</tbody></table>`;
}

function Monitor() {
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

export const PAGES = [
  { path: '/', title: 'Overview', view: Overview },
  { path: '/workers', title: 'Workers', view: Workers },
  { path: '/tasks', title: 'Tasks', view: Tasks },
  { path: '/tasks/', title: 'Task', view: TaskDetail, match: /^\/tasks\/.+/, hidden: true },
  { path: '/queues', title: 'Queues', view: Queues },
  { path: '/schedules', title: 'Schedules', view: Schedules },
  { path: '/schedules/', title: 'Schedule', view: ScheduleDetail, match: /^\/schedules\/.+/, hidden: true },
  { path: '/dead-letters', title: 'Dead letters', view: DeadLetters },
  { path: '/monitor', title: 'Monitor', view: Monitor },
];

