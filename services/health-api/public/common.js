/* global document, navigator */
// What every page uses: its data from the API, kept live; times, durations and states as text.
import { useCallback, useEffect, useState } from '/assets/hooks.mjs';
import { api, html, navigate, useLive } from '/assets/app.js';

/** `[data, error, reload]` of an API path, reloaded on live events unless `live` is false. */
export function useData(path, live = true) {
  const [state, setState] = useState({ data: null, error: null });
  const reload = useCallback(() => api(path).then((data) => setState({ data, error: null }), (error) => setState((s) => ({ ...s, error: error.message }))), [path]);
  useEffect(() => { reload(); }, [reload]);
  useLive(live ? reload : noop);
  return [state.data, state.error, reload];
}
const noop = () => {};

// Times are ISO 8601 with their zone: the viewer's own, or UTC, as chosen in the header (kept in localStorage).
const ZONE_KEY = 'nightshift.timeZone';
let zone = readZone();
function readZone() {
  try { return globalThis.localStorage?.getItem(ZONE_KEY) === 'utc' ? 'utc' : 'local'; } catch { return 'local'; }
}
/** `'local'` (the viewer's zone) or `'utc'`. */
export const timeZone = () => zone;
export function setTimeZone(value) {
  zone = value === 'utc' ? 'utc' : 'local';
  try { globalThis.localStorage?.setItem(ZONE_KEY, zone); } catch { /* private mode: for this page only */ }
}
const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, '0');
/** `2030-01-02T03:04:05+01:00` in the viewer's zone, or `2030-01-02T02:04:05Z` in UTC. */
export function isoTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  if (zone === 'utc') return `${d.toISOString().slice(0, 19)}Z`;
  const offset = -d.getTimezoneOffset();
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date}${offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`}`;
}
export const when = isoTime;
/** A copy-to-clipboard button for `text` (an id), saying "copied" for a moment. */
export function Copy({ text, label = 'Copy' }) {
  const [done, setDone] = useState(false);
  const copy = async (e) => {
    e.preventDefault();
    e.stopPropagation();
    try { await navigator.clipboard.writeText(text); } catch { fallbackCopy(text); }
    setDone(true);
    setTimeout(() => setDone(false), 1200);
  };
  return html`<button type="button" class="copy" title=${`copy ${text}`} aria-label=${`copy ${text}`} onClick=${copy}>${done ? 'copied' : label}</button>`;
}
function fallbackCopy(text) {
  const area = document.createElement('textarea');
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}
export const ms = (n) => (n == null ? '—' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);
export const State = ({ s }) => html`<span class=${`state ${s}`}>${s}</span>`;
export const Err = ({ error }) => (error ? html`<p class="error">${error}</p>` : null);
export const go = (path) => (e) => { e.preventDefault(); navigate(path); };
