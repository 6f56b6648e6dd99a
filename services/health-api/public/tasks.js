/* global URLSearchParams */
// Tasks: the history list, the send form and a task's own page.
import { useState } from '/assets/hooks.mjs';
import { api, html } from '/assets/app.js';
import { Err, go, ms, State, useData, when } from '/assets/common.js';
import { RevokeButton } from '/assets/workers.js';
import { AttemptLogs, Progress } from '/assets/task-journal.js';

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

export function Tasks({ params }) {
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

export function TaskDetail({ path }) {
  const id = decodeURIComponent(path.slice('/tasks/'.length));
  const [run, error] = useData(`/api/tasks/${encodeURIComponent(id)}`);
  const [letters] = useData(`/api/dead-letters?taskId=${encodeURIComponent(id)}`, false); // its dead letter, if it died
  if (!run) return html`<${Err} error=${error} />`;
  return html`<h2>${run.name} <${State} s=${run.state} /></h2><p class="mono">${run.id}</p>
    <div class="bar"><${RevokeButton} id=${run.id} state=${run.state} />${(letters?.items ?? []).map((d) => html`<a data-dead-letter-link href=${`/dead-letters/${d.id}`} onClick=${go(`/dead-letters/${d.id}`)}>dead letter #${d.id} (${d.status})</a>`)}${run.origin?.type === 'replay' ? html`<a data-replay-of href=${`/dead-letters/${run.origin.deadLetterId}`} onClick=${go(`/dead-letters/${run.origin.deadLetterId}`)}>replay of dead letter #${run.origin.deadLetterId}</a>` : null}${run.traceUrl ? html`<a href=${run.traceUrl} target="_blank" rel="noopener">trace ${run.traceId}</a>` : run.traceId ? html`<span class="mono">trace ${run.traceId}</span>` : null}</div>
    <${Progress} run=${run} />
    <table><tbody>${[['args', JSON.stringify(run.args)], ['kwargs', JSON.stringify(run.kwargs)], ['queue', run.queue], ['attempt', `${run.attempt}/${run.maxAttempts}`], ['worker', run.worker],
      ['sent', run.sentAt], ['started', run.startedAt], ['finished', run.finishedAt], ['runtime', ms(run.runtimeMs)], ['result', JSON.stringify(run.result)], ['origin', JSON.stringify(run.origin)]]
      .map(([k, v]) => html`<tr><th>${k}</th><td class="mono">${v ?? '—'}</td></tr>`)}</tbody></table>
    ${run.errorClass ? html`<h3>${run.errorClass}: ${run.errorMessage}</h3><pre class="traceback">${run.errorStack}</pre>` : null}
    <h3>Timeline</h3><table><tbody>${run.timeline.map((e) => html`<tr><td>${when(e.at)}</td><td><${State} s=${e.type} /></td><td>attempt ${e.attempt}</td><td class="mono">${e.worker}</td><td class="mono">${e.type === 'logged' ? html`<${AttemptLogs} detail=${e.detail} />` : JSON.stringify(e.detail)}</td></tr>`)}</tbody></table>`;
}
