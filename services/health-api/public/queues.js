// Queues: depth, consumers and rates of the prefix's queues.
import { html } from '/assets/app.js';
import { Err, useData, when } from '/assets/common.js';

export function Queues() {
  const [data, error] = useData('/api/queues');
  const rate = (n) => (n == null ? '—' : `${n.toFixed(1)}/s`);
  return html`<${Err} error=${error} /><table><thead><tr><th>Queue</th><th>Depth</th><th>Consumers</th><th>Publish</th><th>Deliver</th><th>Checked</th></tr></thead>
    <tbody>${(data?.items ?? []).map((q) => html`<tr><td>${q.name}</td><td>${q.depth}</td><td>${q.consumers}</td><td>${rate(q.publishRate)}</td><td>${rate(q.deliverRate)}</td><td>${when(q.checkedAt)}</td></tr>`)}</tbody></table>
    ${data?.items.some((q) => q.rates === 'estimated' && !q.missing) ? html`<p class="muted">Rates are estimated from depths and task events: RabbitMQ's management API cannot be read (see NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL).</p>` : null}`;
}
