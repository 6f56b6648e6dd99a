/* global confirm */
// Workers: who is online, what each is doing, and the controls an on-call engineer acts with.
import { useEffect, useState } from '/assets/hooks.mjs';
import { api, html } from '/assets/app.js';
import { Err, go, ms, State, useData, when } from '/assets/common.js';

const link = (name) => `/workers/${encodeURIComponent(name)}`;

/** Reloads every 2 s as well: a worker that dies sends no event, yet the page must show it lost. */
function useEvery(reload, everyMs = 2_000) {
  useEffect(() => {
    const timer = setInterval(reload, everyMs);
    return () => clearInterval(timer);
  }, [reload]);
}

export function Workers() {
  const [data, error, reload] = useData('/api/workers');
  useEvery(reload);
  return html`<${Err} error=${error} /><table><thead><tr><th>Worker</th><th>Status</th><th>Active</th><th>Reserved</th><th>Processed</th><th>Concurrency</th><th>Queues</th><th>Host / pid</th><th>Version</th><th>Uptime</th><th>Last seen</th></tr></thead>
    <tbody>${(data?.items ?? []).map((w) => html`<tr data-worker=${w.name}><td class="mono"><a href=${link(w.name)} onClick=${go(link(w.name))}>${w.name}</a></td><td><${State} s=${w.status} /></td><td>${w.active}</td><td>${w.reserved}</td><td>${w.processed}</td>
      <td>${w.concurrency} ${w.pool}${w.autoscale?.byLoad ? ` (auto ${w.autoscale.min}..${w.autoscale.max})` : ''}</td><td>${w.queues.join(', ')}</td><td>${w.host} / ${w.pid}</td><td>${w.version}</td><td>${ms(w.uptimeMs)}</td><td>${when(w.lastSeen)}</td></tr>`)}</tbody></table>`;
}

const FINISHED = new Set(['succeeded', 'dead-lettered', 'revoked']);

/**
 * Revoke, offered only while the task has not finished: asks first (naming what will happen), then says what came
 * of it (the workers that heard it, or why it was refused). `state` undefined: not known to be finished.
 */
export function RevokeButton({ id, state, terminate = true, onDone }) {
  const [outcome, setOutcome] = useState(null);
  // Once it has finished the button goes, but the answer to a revoke made here stays (the reload that follows
  // the revoke shows the run revoked).
  if (FINISHED.has(state) && outcome === null) return null;
  const revoke = async () => {
    const what = terminate ? `Revoke task ${id}? If it is running it is stopped now; if it waits it will be skipped by every worker, including workers started later.`
      : `Revoke task ${id}? Every worker skips it when it arrives, including workers started later.`;
    if (!confirm(what)) return;
    try {
      const answer = await api(`/api/tasks/${encodeURIComponent(id)}/revoke`, { method: 'POST', body: { terminate } });
      const heard = answer.replies.map((r) => `${r.worker}: ${r.reply.state ?? 'ok'}`).join('; ');
      const kept = answer.known ? 'Revoked.' : 'Revoked before the history saw it sent: kept, and skipped if it arrives.';
      setOutcome({ ok: true, text: `${kept} ${heard || 'No worker online now; kept, so a worker that starts later skips it.'}` });
      onDone?.();
    } catch (error) {
      setOutcome({ ok: false, text: error.message });
    }
  };
  return html`<span class="revoke">${FINISHED.has(state) ? null : html`<button class="plain" data-revoke=${id} onClick=${revoke}>Revoke</button>`}${outcome ? html` <span role="status" class=${outcome.ok ? 'muted' : 'error'}>${outcome.text}</span>` : null}</span>`;
}

const ACTIONS = {
  shutdown: (w) => `Shut down ${w.name}? It takes no new tasks; running ones may finish within its grace period, then it exits.`,
  'pool-restart': (w) => `Restart the pool of ${w.name}? ${w.concurrency} new sandboxes take new tasks; running tasks finish in the old ones first.`,
  'pool-grow': (w) => `Grow the pool of ${w.name} from ${w.concurrency} to ${w.concurrency + 1} sandboxes?`,
  'pool-shrink': (w) => `Shrink the pool of ${w.name} from ${w.concurrency} to ${w.concurrency - 1} sandboxes? Running tasks finish first.`,
  autoscale: (w, a) => `Keep the pool of ${w.name} between ${a.min} and ${a.max} sandboxes, following the load? It grows as tasks wait and shrinks when idle.`,
  'add-consumer': (w, a) => `Make ${w.name} consume queue "${a.queue}"?`,
  'cancel-consumer': (w, a) => `Stop ${w.name} consuming queue "${a.queue}"? Tasks it has received finish.`,
  'rate-limit': (w, a) => (a.rate === 'none' ? `Lift the rate limit of task "${a.task}" on ${w.name}?` : `Limit task "${a.task}" to ${a.rate} on ${w.name}?`),
};

function Controls({ worker, onDone }) {
  const [outcome, setOutcome] = useState(null);
  const [form, setForm] = useState({ queue: '', task: '', rate: '', min: '', max: '' });
  const set = (key) => (e) => setForm({ ...form, [key]: e.target.value });
  const act = async (action, args = {}) => {
    if (!confirm(ACTIONS[action](worker, args))) return;
    setOutcome({ ok: true, text: `${action}…` });
    try {
      const answer = await api(`/api${link(worker.name)}/control`, { method: 'POST', body: { action, ...args } });
      setOutcome({ ok: true, text: `${answer.replies[0]?.detail ?? 'done'} (recorded: ${answer.audit.actor}, ${when(answer.audit.at)})` });
      onDone();
    } catch (error) {
      setOutcome({ ok: false, text: error.message });
    }
  };
  const online = worker.status === 'online';
  return html`<section class="controls"><h3>Controls</h3>
    <div class="bar"><button data-action="shutdown" disabled=${!online} onClick=${() => act('shutdown')}>Shut down</button>
      <button data-action="pool-restart" disabled=${!online} onClick=${() => act('pool-restart')}>Restart pool</button>
      <button data-action="pool-grow" disabled=${!online} onClick=${() => act('pool-grow', { n: 1 })}>Grow pool +1</button>
      <button data-action="pool-shrink" disabled=${!online} onClick=${() => act('pool-shrink', { n: 1 })}>Shrink pool −1</button></div>
    <div class="bar"><label>autoscale min <input name="min" size="3" value=${form.min} onInput=${set('min')} /></label><label>max <input name="max" size="3" value=${form.max} onInput=${set('max')} /></label>
      <button data-action="autoscale" disabled=${!online} onClick=${() => act('autoscale', { min: Number(form.min), max: Number(form.max) })}>Set bounds</button>
      <${Autoscale} worker=${worker} /></div>
    <div class="bar"><label>queue <input name="queue" value=${form.queue} onInput=${set('queue')} /></label>
      <button data-action="add-consumer" disabled=${!online} onClick=${() => act('add-consumer', { queue: form.queue })}>Add consumer</button>
      ${worker.queues.map((q) => html`<button class="plain" data-cancel=${q} disabled=${!online} onClick=${() => act('cancel-consumer', { queue: q })}>Cancel ${q}</button>`)}</div>
    <div class="bar"><label>task <input name="task" value=${form.task} onInput=${set('task')} /></label><label>rate <input name="rate" placeholder="100/m or none" value=${form.rate} onInput=${set('rate')} /></label>
      <button data-action="rate-limit" disabled=${!online} onClick=${() => act('rate-limit', { task: form.task, rate: form.rate })}>Set rate limit</button>
      ${Object.entries(worker.rateLimits ?? {}).map(([t, r]) => html`<span class="muted">${t}: ${r}</span>`)}</div>
    ${outcome ? html`<p role="status" class=${outcome.ok ? 'muted' : 'error'}>${outcome.text}</p>` : null}</section>`;
}

/** How the pool's size is decided: by hand within bounds, or following the load (`--autoscale`), and its last change. */
function Autoscale({ worker }) {
  const a = worker.autoscale;
  if (!a) return null;
  const last = a.lastChange;
  return html`<span class="muted" data-autoscale>${a.byLoad
    ? `follows the load: ${a.min}..${a.max} sandboxes, ${worker.concurrency} now${a.keepaliveMs ? `; shrinks after ${ms(a.keepaliveMs)} not full` : ''}`
    : `fixed at ${worker.concurrency}; grow and shrink within ${a.min}..${a.max}`}${last
    ? ` · last ${last.to > last.from ? 'grown' : 'shrunk'} ${last.from} → ${last.to} at ${when(last.at)} (${last.reason})` : ''}</span>`;
}

function TaskRows({ tasks, running, reload }) {
  // A task revoked from here stays listed, with what came of the revoke, after the worker no longer holds it:
  // the live reload would otherwise take the answer away with its row.
  const [revoked, setRevoked] = useState(() => new Map());
  if (tasks === null) return html`<p class="muted">The worker did not answer.</p>`;
  const shown = [...tasks, ...[...revoked.values()].filter((r) => !tasks.some((t) => t.id === r.id))];
  if (shown.length === 0) return html`<p class="muted">None.</p>`;
  const done = (t) => () => { setRevoked((kept) => new Map(kept).set(t.id, t)); reload(); };
  return html`<table><thead><tr><th>Id</th><th>Task</th><th>Attempt</th><th>Queue</th>${running ? html`<th>Started</th><th>Runtime</th>` : null}<th>Args</th><th></th></tr></thead>
    <tbody>${shown.map((t) => html`<tr key=${t.id} data-task=${t.id}><td class="mono"><a href=${`/tasks/${t.id}`} onClick=${go(`/tasks/${t.id}`)}>${t.id}</a></td><td>${t.task}</td><td>${t.attempt}</td><td>${t.queue}</td>
      ${running ? html`<td>${when(t.startedAt)}</td><td>${ms(t.runningMs)}</td>` : null}<td class="mono">${JSON.stringify(t.args)}</td><td><${RevokeButton} id=${t.id} terminate=${running} onDone=${done(t)} /></td></tr>`)}</tbody></table>`;
}

export function WorkerDetail({ path }) {
  const name = decodeURIComponent(path.slice('/workers/'.length));
  const [worker, error, reload] = useData(`/api${link(name)}`);
  useEvery(reload);
  const [audit] = useData(`/api/control-actions?worker=${encodeURIComponent(name)}&limit=20`);
  if (!worker) return html`<${Err} error=${error} />`;
  return html`<h2 class="mono">${worker.name} <${State} s=${worker.status} /></h2>
    <p class="muted">${worker.host} / ${worker.pid} · ${worker.concurrency} ${worker.pool} sandboxes · queues ${worker.queues.join(', ')} · last seen ${when(worker.lastSeen)}</p>
    ${worker.status === 'lost' ? html`<p class="error">This worker went away without saying goodbye (killed, or its host is gone). Tasks it was running go back to their queues.</p>` : null}
    <${Err} error=${error} />
    <h3>Running</h3><${TaskRows} tasks=${worker.tasks.active} running=${true} reload=${reload} />
    <h3>Reserved</h3><${TaskRows} tasks=${worker.tasks.reserved} running=${false} reload=${reload} />
    <${Controls} worker=${worker} onDone=${reload} />
    <h3>Actions taken</h3><table class="audit"><thead><tr><th>When</th><th>Who</th><th>Via</th><th>Action</th><th>With</th><th>Outcome</th></tr></thead>
    <tbody>${(audit?.items ?? []).map((a) => html`<tr><td>${new Date(a.at).toISOString()}</td><td>${a.actor}</td><td>${a.via}</td><td>${a.action}</td><td class="mono">${JSON.stringify(a.args)}</td><td><${State} s=${a.outcome} /></td></tr>`)}</tbody></table>`;
}
