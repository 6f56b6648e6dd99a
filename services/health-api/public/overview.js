// Overview: the numbers an on-call engineer reads first.
import { html } from '/assets/app.js';
import { Err, ms, State, useData } from '/assets/common.js';

const Card = ({ label, value, note }) => html`<div class="card"><div class="l">${label}</div><div class="n">${value ?? '—'}</div>${note ? html`<div class="note">${note}</div>` : null}</div>`;

export function Overview() {
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
