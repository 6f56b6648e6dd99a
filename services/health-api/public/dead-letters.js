/* global prompt */
// Dead letters: what failed for good, to requeue or ignore.
import { useState } from '/assets/hooks.mjs';
import { api, html } from '/assets/app.js';
import { Err, useData, when } from '/assets/common.js';

export function DeadLetters() {
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
