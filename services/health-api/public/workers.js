// Workers: who is online and what each is doing.
import { html } from '/assets/app.js';
import { Err, ms, State, useData, when } from '/assets/common.js';

export function Workers() {
  const [data, error] = useData('/api/workers');
  return html`<${Err} error=${error} /><table><thead><tr><th>Worker</th><th>Status</th><th>Active</th><th>Reserved</th><th>Processed</th><th>Concurrency</th><th>Queues</th><th>Host / pid</th><th>Version</th><th>Uptime</th><th>Last seen</th></tr></thead>
    <tbody>${(data?.items ?? []).map((w) => html`<tr><td class="mono">${w.name}</td><td><${State} s=${w.status} /></td><td>${w.active}</td><td>${w.reserved}</td><td>${w.processed}</td>
      <td>${w.concurrency} ${w.pool}</td><td>${w.queues.join(', ')}</td><td>${w.host} / ${w.pid}</td><td>${w.version}</td><td>${ms(w.uptimeMs)}</td><td>${when(w.lastSeen)}</td></tr>`)}</tbody></table>`;
}
