// Queues: every queue of the prefix (work queues, the retry ladder's steps, the dead-letters queue) with depth,
// consumers and rates; a queue's page lists what waits in it, purges it, and promotes a delayed task.
import { useState } from '/assets/hooks.mjs';
import { api, html } from '/assets/app.js';
import { Err, go, useData, when } from '/assets/common.js';
import { useConfirm } from '/assets/confirm.js';

const rate = (n) => (n == null ? '—' : `${n.toFixed(1)}/s`);
const KIND = { work: 'Work queues', retry: 'Retry ladder (tasks waiting to retry or delayed)', 'dead-letters': 'Dead letters (waiting for the alerter)' };
const queuePath = (q) => `/queues/${encodeURIComponent(q.kind === 'work' ? q.name : q.brokerName)}`;

export function Queues() {
  const [data, error] = useData('/api/queues');
  const items = data?.items ?? [];
  return html`<${Err} error=${error} />
    ${Object.entries(KIND).map(([kind, title]) => html`<h3>${title}</h3><table data-kind=${kind}><thead><tr><th>Queue</th><th>Depth</th><th>Consumers</th><th>Publish</th><th>Deliver</th><th>Checked</th></tr></thead>
      <tbody>${items.filter((q) => q.kind === kind).map((q) => html`<tr data-queue=${q.brokerName}><td><a href=${queuePath(q)} onClick=${go(queuePath(q))}>${q.name}</a>${q.missing ? html` <span class="muted">(not declared yet)</span>` : null}</td>
        <td>${q.depth ?? '—'}</td><td>${q.consumers ?? '—'}</td><td>${rate(q.publishRate)}</td><td>${rate(q.deliverRate)}</td><td>${when(q.checkedAt)}</td></tr>`)}</tbody></table>`)}
    ${items.some((q) => q.rates === 'estimated' && !q.missing) ? html`<p class="muted">Rates are estimated from depths and task events: RabbitMQ's management API cannot be read (see NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL).</p>` : null}`;
}

export function QueueDetail({ path }) {
  const name = decodeURIComponent(path.slice('/queues/'.length));
  // Not live: each load of a ladder step peeks the broker, and rows must not move under the pointer.
  const [data, error, reload] = useData(`/api/queues/${encodeURIComponent(name)}`, false);
  const [message, setMessage] = useState('');
  const [dialog, ask] = useConfirm();
  if (!data) return html`<${Err} error=${error} />`;
  const { queue, waiting, actions } = data;
  const purge = async () => {
    const depth = queue.depth ?? 0;
    if (!await ask({ title: `Purge ${queue.brokerName}?`, text: `This deletes the ${depth} message${depth === 1 ? '' : 's'} waiting in ${queue.brokerName}. They cannot be recovered.`, action: `Purge ${depth} message${depth === 1 ? '' : 's'}`, danger: true })) return;
    try {
      const done = await api(`/api/queues/${encodeURIComponent(name)}/purge`, { method: 'POST' });
      setMessage(`purged ${done.purged} message${done.purged === 1 ? '' : 's'}`);
      reload();
    } catch (e) { setMessage(e.message); }
  };
  const promote = async (w) => {
    if (!await ask({ title: 'Run it now?', text: `${w.task} ${w.id} is due ${w.dueAt ?? 'when its wait ends'}. It goes to queue "${w.queue}" now.`, action: 'Run now' })) return;
    try {
      await api(`/api/queues/${encodeURIComponent(name)}/promote`, { method: 'POST', body: { id: w.id } });
      setMessage(`${w.id} sent to ${w.queue}`);
      reload();
    } catch (e) { setMessage(e.message); }
  };
  return html`${dialog}<h2>${queue.brokerName} <span class="muted">${queue.kind}</span></h2>
    <div class="bar"><span>depth <b data-depth>${queue.depth ?? '—'}</b></span><span>consumers ${queue.consumers ?? '—'}</span><span>publish ${rate(queue.publishRate)}</span><span>deliver ${rate(queue.deliverRate)}</span>
      <button class="plain" onClick=${reload}>Refresh</button><button class="danger" data-purge onClick=${purge}>Purge…</button><span class="muted" data-result>${message}</span></div>
    <${Err} error=${error} />
    <h3>Waiting ${waiting.source === 'history' ? html`<span class="muted">(runs the history has as sent and not yet received; a work queue is not peeked, as each peek would count towards its delivery limit)</span>` : html`<span class="muted">(read without taking them, at ${when(waiting.at)})</span>`}</h3>
    <table><thead><tr><th>#</th><th>Id</th><th>Task</th><th>Args</th><th>Attempt</th><th>${queue.kind === 'dead-letters' ? 'Reason' : 'Due'}</th><th></th></tr></thead>
    <tbody>${waiting.items.map((w, i) => html`<tr data-waiting=${w.id}><td>${w.position ?? i + 1}</td><td class="mono">${w.id ? html`<a href=${`/tasks/${w.id}`} onClick=${go(`/tasks/${w.id}`)}>${w.id}</a>` : '—'}</td><td>${w.task ?? w.malformed}</td>
      <td class="mono">${JSON.stringify(w.args)}</td><td>${w.attempt ?? '—'}/${w.maxAttempts ?? '?'}</td><td>${queue.kind === 'dead-letters' ? w.reason : w.dueAt ? new Date(w.dueAt).toISOString() : '—'}</td>
      <td>${queue.kind === 'retry' && w.id ? html`<button class="plain" onClick=${() => promote(w)}>Run now</button>` : null}</td></tr>`)}</tbody></table>
    ${waiting.items.length === 0 ? html`<p class="muted">Nothing waiting.</p>` : null}
    <h3>Actions</h3><table><tbody>${actions.map((a) => html`<tr><td>${new Date(a.at).toISOString()}</td><td>${a.action}</td><td>${a.by}</td><td class="mono">${JSON.stringify(a.detail)}</td></tr>`)}</tbody></table>`;
}
