/* global URLSearchParams */
// Dead letters: what failed for good, to requeue (its args edited if need be) or ignore, one at a time or in bulk.
// The list does not reload under the pointer: letters that arrive meanwhile are announced ("3 new, show").
import { useEffect, useState } from '/assets/hooks.mjs';
import { api, html } from '/assets/app.js';
import { Err, go, useData, when } from '/assets/common.js';
import { useConfirm } from '/assets/confirm.js';

const describe = (f) => [f.task && `task ${f.task}`, f.errorClass && `error ${f.errorClass}`, f.since && `since ${f.since}`, f.until && `until ${f.until}`].filter(Boolean).join(', ') || 'every task';
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function BulkProgress({ job, onDone }) {
  const [now, setNow] = useState(job);
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      const next = await api(`/api/dead-letters/bulk/${job.id}`).catch(() => null);
      if (stopped || !next) return;
      setNow(next);
      if (next.state === 'running') setTimeout(tick, 400); else onDone();
    };
    tick();
    return () => { stopped = true; };
  }, [job.id]);
  return html`<div class="bar" data-bulk=${now.state}><progress max=${Math.max(1, now.total)} value=${now.done} />
    <span data-progress>${now.done} of ${now.total} requeued (${now.perSecond}/s) — ${now.state}${now.error ? `: ${now.error}` : ''}</span>
    <span class="muted" data-bulk-by>started by ${now.by} at ${when(now.startedAt)}${now.resumed ? `; resumed ${plural(now.resumed, 'time')} after a health-api restart` : ''}</span>
    ${now.state === 'running' ? html`<button class="plain" onClick=${() => api(`/api/dead-letters/bulk/${job.id}/stop`, { method: 'POST' })}>Stop</button>` : null}</div>`;
}

export function DeadLetters() {
  const [filters, setFilters] = useState({ status: 'pending', task: '', errorClass: '', since: '', until: '' });
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
  const [data, error, reload] = useData(`/api/dead-letters?${query}`, false);
  const [statuses, setStatuses] = useState({});
  const [message, setMessage] = useState('');
  const [job, setJob] = useState(null);
  // Bulk requeues outlive the page and the health-api: those still running (started in another tab, by someone
  // else, or before a restart) are shown with their progress too.
  const [jobs] = useData('/api/dead-letters/bulk', false);
  const running = (jobs?.items ?? []).filter((j) => j.state === 'running' && j.id !== job?.id);
  const [dialog, ask] = useConfirm();
  const items = data?.items ?? [];
  // How many arrived since this page was loaded: counted live, shown on demand.
  const newest = items[0]?.lastFailedAt;
  // Rows reviewed here since no longer match the status filter, so they are not in that count.
  const atNewest = items.filter((d) => d.lastFailedAt === newest && (statuses[d.id] ?? d.status) === filters.status).length;
  const newerQuery = new URLSearchParams(Object.entries({ ...filters, since: newest ?? filters.since }).filter(([, v]) => v)).toString();
  const [newer] = useData(`/api/dead-letters/count?${newerQuery}`);
  const arrived = newest ? Math.max(0, (newer?.count ?? 0) - atNewest) : newer?.count ?? 0;
  const show = () => { setStatuses({}); reload(); };
  const set = (key) => (e) => { setFilters({ ...filters, [key]: e.target.value }); setStatuses({}); };

  const act = async (d, action) => {
    const fields = action === 'ignore' ? [{ name: 'note', label: 'Why ignore it?', value: '' }] : [];
    const answer = await ask({ title: `${action === 'ignore' ? 'Ignore' : 'Requeue'} dead letter #${d.id}?`, text: action === 'ignore'
      ? `#${d.id} (${d.task}, ${d.errorClass ?? d.reason}) is set aside with your note.` : `${d.task} #${d.id} is sent again to queue "${d.queue}" with its own args.`, action: action === 'ignore' ? 'Ignore' : 'Requeue', fields });
    if (!answer) return;
    try {
      // The dashboard's ignore replaces an earlier review, as a reviewer sees the letter before acting on it.
      await api(`/api/dead-letters/${d.id}/${action}`, { method: 'POST', body: action === 'ignore' ? { note: answer.note || 'ignored from the dashboard', force: true } : {} });
      setStatuses({ ...statuses, [d.id]: action === 'ignore' ? 'ignored' : 'requeued' });
      setMessage(`#${d.id} ${action === 'ignore' ? 'ignored' : 'requeued'}`);
    } catch (e) { setMessage(e.message); }
  };
  const bulk = async (action) => {
    const filter = Object.fromEntries(Object.entries({ task: filters.task, errorClass: filters.errorClass, since: filters.since, until: filters.until }).filter(([, v]) => v));
    const { count } = await api(`/api/dead-letters/count?${new URLSearchParams({ ...filter, status: 'pending' })}`);
    if (count === 0) { setMessage('no pending dead letters match'); return; }
    const fields = action === 'requeue'
      ? [{ name: 'perSecond', label: 'Replays a second', value: '10' }, { name: 'note', label: 'Note (optional)', value: '' }]
      : [{ name: 'note', label: 'Why ignore them?', value: '' }];
    const answer = await ask({ title: `${action === 'requeue' ? 'Requeue' : 'Ignore'} ${plural(count, 'dead letter')}?`, text: `${plural(count, 'pending dead letter')} match (${describe(filter)}). ${action === 'requeue' ? 'Their tasks are sent again, paced.' : 'They are set aside with your note.'}`,
      action: `${action === 'requeue' ? 'Requeue' : 'Ignore'} ${count}`, fields });
    if (!answer) return;
    try {
      if (action === 'requeue') {
        setJob(await api('/api/dead-letters/bulk/requeue', { method: 'POST', body: { ...filter, limit: count, perSecond: Number(answer.perSecond) || 10, ...(answer.note ? { note: answer.note } : {}) } }));
      } else {
        const done = await api('/api/dead-letters/bulk/ignore', { method: 'POST', body: { ...filter, limit: count, note: answer.note || 'ignored in bulk from the dashboard' } });
        setMessage(`${plural(done.ignored, 'dead letter')} ignored`);
        show();
      }
    } catch (e) { setMessage(e.message); }
  };
  return html`${dialog}<div class="bar"><select value=${filters.status} onChange=${set('status')}>${['pending', 'requeued', 'ignored'].map((s) => html`<option>${s}</option>`)}</select>
      <input name="task" placeholder="task" value=${filters.task} onInput=${set('task')} /><input name="errorClass" placeholder="error class" value=${filters.errorClass} onInput=${set('errorClass')} />
      <input name="since" placeholder="since (1h or ISO time)" value=${filters.since} onInput=${set('since')} /><input name="until" placeholder="until" value=${filters.until} onInput=${set('until')} />
      <button class="plain" data-bulk-requeue onClick=${() => bulk('requeue')}>Requeue all matching…</button><button class="plain" data-bulk-ignore onClick=${() => bulk('ignore')}>Ignore all matching…</button>
      <span class="muted" data-result>${message}</span></div>
    ${job ? html`<${BulkProgress} job=${job} onDone=${() => setMessage('bulk requeue done')} />` : null}
    ${running.map((j) => html`<${BulkProgress} key=${j.id} job=${j} onDone=${() => {}} />`)}
    ${arrived > 0 ? html`<p class="warn new-letters" data-new-letters onClick=${show}>${arrived} new, show</p>` : null}
    <${Err} error=${error} /><table><thead><tr><th>#</th><th>Task</th><th>Reason</th><th>Error</th><th>Attempts</th><th>Died</th><th></th></tr></thead>
    <tbody>${items.map((d) => {
      const status = statuses[d.id] ?? d.status;
      return html`<tr key=${d.id} data-dead-letter=${d.id}><td><a href=${`/dead-letters/${d.id}`} onClick=${go(`/dead-letters/${d.id}`)}>${d.id}</a></td><td>${d.task}</td><td>${d.reason}</td><td>${d.errorClass}: ${d.errorMessage}</td><td>${d.attempts}</td><td>${when(d.lastFailedAt)}</td>
      <td class="actions">${status === 'pending' ? html`<button onClick=${() => act(d, 'requeue')}>Requeue</button> <button class="plain" onClick=${() => act(d, 'ignore')}>Ignore</button>` : status}</td></tr>`;
    })}</tbody></table>
    <button class="plain" onClick=${reload}>Reload</button>`;
}

export function DeadLetterDetail({ path }) {
  const id = decodeURIComponent(path.slice('/dead-letters/'.length));
  const [d, error, reload] = useData(`/api/dead-letters/${encodeURIComponent(id)}`, false);
  const [message, setMessage] = useState('');
  const [dialog, ask] = useConfirm();
  if (!d) return html`<${Err} error=${error} />`;
  const requeue = async (edit) => {
    const fields = edit ? [{ name: 'args', label: 'args (a JSON array)', value: JSON.stringify(d.args ?? []), multiline: true }, { name: 'kwargs', label: 'kwargs (a JSON object)', value: JSON.stringify(d.kwargs ?? {}), multiline: true }, { name: 'note', label: 'Why (kept in its audit trail)', value: '' }] : [];
    const answer = await ask({ title: `Requeue dead letter #${d.id}${edit ? ' with edited args' : ''}?`, text: `${d.task} is sent again to queue "${d.queue}"${edit ? ' with the args below; the old ones stay in the audit trail' : ''}.`, action: 'Requeue', fields });
    if (!answer) return;
    try {
      const body = { force: d.status === 'requeued', ...(answer.note ? { note: answer.note } : {}) };
      if (edit) Object.assign(body, { args: JSON.parse(answer.args), kwargs: JSON.parse(answer.kwargs || '{}') });
      const done = await api(`/api/dead-letters/${d.id}/requeue`, { method: 'POST', body });
      setMessage(`requeued as ${done.replayId}`);
      reload();
    } catch (e) { setMessage(e.message); }
  };
  const ignore = async () => {
    const answer = await ask({ title: `Ignore dead letter #${d.id}?`, text: `${d.task} #${d.id} is set aside with your note.`, action: 'Ignore', fields: [{ name: 'note', label: 'Why ignore it?', value: '' }] });
    if (!answer) return;
    try {
      await api(`/api/dead-letters/${d.id}/ignore`, { method: 'POST', body: { note: answer.note || 'ignored from the dashboard', force: true } });
      setMessage('ignored');
      reload();
    } catch (e) { setMessage(e.message); }
  };
  const link = (href, text) => html`<a href=${href} onClick=${go(href)}>${text}</a>`;
  return html`${dialog}<h2>Dead letter #${d.id} <span class=${`state ${d.status}`}>${d.status}</span></h2>
    <div class="bar"><button onClick=${() => requeue(false)}>Requeue</button><button class="plain" data-edit onClick=${() => requeue(true)}>Edit args and requeue…</button><button class="plain" onClick=${ignore}>Ignore</button><span class="muted" data-result>${message}</span></div>
    <table class="definition"><tbody>
      <tr><th>task</th><td>${d.task}</td></tr><tr><th>task id</th><td class="mono">${d.messageId ? link(`/tasks/${d.messageId}`, d.messageId) : '—'}</td></tr>
      <tr><th>queue</th><td>${d.queue}</td></tr><tr><th>reason</th><td>${d.reason}${d.detail ? ` — ${d.detail}` : ''}</td></tr>
      <tr><th>attempts</th><td>${d.attempts ?? '—'}</td></tr><tr><th>worker</th><td class="mono">${d.worker ?? '—'}</td></tr>
      <tr><th>first failed</th><td>${d.firstFailedAt ?? '—'}</td></tr><tr><th>last failed</th><td>${d.lastFailedAt}</td></tr>
      <tr><th>replay</th><td class="mono" data-replay>${d.replayId ? link(`/tasks/${d.replayId}`, d.replayId) : '—'}</td></tr>
      ${d.replayOf ? html`<tr><th>replay of</th><td>${link(`/dead-letters/${d.replayOf}`, `#${d.replayOf}`)}</td></tr>` : null}
      <tr><th>args</th><td><pre data-args>${JSON.stringify(d.args, null, 2)}</pre></td></tr><tr><th>kwargs</th><td><pre>${JSON.stringify(d.kwargs, null, 2)}</pre></td></tr>
    </tbody></table>
    <h3>${d.errorClass ?? d.reason}: ${d.errorMessage ?? ''}</h3>${d.errorStack ? html`<pre class="traceback">${d.errorStack}</pre>` : null}
    <h3>Reviews</h3><table data-reviews><thead><tr><th>When</th><th>What</th><th>Who</th><th>Note</th><th>Detail</th></tr></thead>
    <tbody>${d.reviews.map((r) => html`<tr><td>${new Date(r.at).toISOString()}</td><td>${r.action}</td><td>${r.by}</td><td>${r.note ?? ''}</td><td class="mono">${r.action === 'edited' ? `args ${JSON.stringify(r.detail.before?.args)} → ${JSON.stringify(r.detail.after?.args)}, kwargs ${JSON.stringify(r.detail.before?.kwargs)} → ${JSON.stringify(r.detail.after?.kwargs)}` : JSON.stringify(r.detail)}</td></tr>`)}</tbody></table>
    ${d.reviews.length === 0 ? html`<p class="muted">Not reviewed yet.</p>` : null}`;
}
