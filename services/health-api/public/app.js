/* global window, document, location, history, Event, EventSource, URLSearchParams */
// The dashboard shell: routing, the API client (with the CSRF token), and live updates over SSE.
// Every value from a task is rendered as text by Preact; nothing is ever set as HTML.
import { h, render } from '/assets/preact.mjs';
import { useEffect, useState } from '/assets/hooks.mjs';
import htm from '/assets/htm.mjs';
import { PAGES } from '/assets/views.js';
import { setTimeZone, timeZone } from '/assets/common.js';

export const html = htm.bind(h);

// The session (user and CSRF token) is asked for at once, beside the page's own data: a read needs no token,
// so a page renders without waiting for it; a change waits for it.
const session = fetch('/api/session', { headers: { accept: 'application/json' } }).then((r) => r.json());
let csrfToken = '';
/**
 * The answer of an API call; `headers` are added (e.g. `if-match`). A refusal throws an Error whose message is
 * `code: message`, with the answer's `status`, `code` and `parameter` (the field at fault) on it.
 */
export async function api(path, options = {}) {
  const init = { method: options.method ?? 'GET', headers: { accept: 'application/json', ...options.headers } };
  if (init.method !== 'GET') {
    if (!csrfToken) csrfToken = (await session).csrfToken;
    init.headers['content-type'] = 'application/json';
    init.headers['x-nightshift-csrf'] = csrfToken;
    init.body = JSON.stringify(options.body ?? {});
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
    Object.assign(error, { status: response.status, code: body.error?.code, parameter: body.error?.parameter });
    throw error;
  }
  return body;
}

// Live updates: events arrive coalesced by the server every 250 ms; pages reload their data at most once a second.
const listeners = new Set();
export function useLive(reload) {
  useEffect(() => {
    let due = false;
    const listener = () => { due = true; };
    listeners.add(listener);
    const timer = setInterval(() => { if (due) { due = false; reload(); } }, 1000);
    return () => { listeners.delete(listener); clearInterval(timer); };
  }, [reload]);
}
function connectEvents() {
  const source = new EventSource('/api/events');
  source.addEventListener('events', (message) => {
    const batch = JSON.parse(message.data);
    for (const listener of listeners) listener(batch);
  });
}

export function navigate(path) {
  history.pushState(null, '', path);
  window.dispatchEvent(new Event('popstate'));
}

function App() {
  const [path, setPath] = useState(location.pathname + location.search);
  const [user, setUser] = useState('');
  const [zone, setZone] = useState(timeZone());
  const chooseZone = (e) => { setTimeZone(e.target.value); setZone(timeZone()); };
  useEffect(() => {
    const onPop = () => setPath(location.pathname + location.search);
    window.addEventListener('popstate', onPop);
    session.then((s) => { csrfToken = s.csrfToken; setUser(s.user); }, () => {});
    connectEvents();
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const [pathname, search = ''] = path.split('?');
  const page = PAGES.find((p) => (p.match ? p.match.test(pathname) : p.path === pathname)) ?? PAGES[0];
  const link = (p) => html`<a href=${p.path} class=${page.path === p.path ? 'on' : ''} onClick=${(e) => { e.preventDefault(); navigate(p.path); }}>${p.title}</a>`;
  return html`
    <header><strong>Nightshift</strong><nav>${PAGES.filter((p) => !p.hidden).map(link)}<a href="/runbook" target="_blank" rel="noopener" title="what to do about each alert (opens in a new tab)">Runbook</a></nav>
      <label class="zone" style="margin-left:auto">Times in <select aria-label="time zone" value=${zone} onChange=${chooseZone}><option value="local">${localZoneName()}</option><option value="utc">UTC</option></select></label>
      <span class="muted">${user}</span></header>
    <main>${h(page.view, { path: pathname, params: new URLSearchParams(search) })}</main>`;
}

/** The viewer's zone, named for the zone menu: "your zone (Europe/Berlin)". */
function localZoneName() {
  let name = '';
  try { name = Intl.DateTimeFormat().resolvedOptions().timeZone ?? ''; } catch { /* an old browser */ }
  return name ? `your zone (${name})` : 'your zone';
}

render(h(App, {}), document.getElementById('root'));
