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
export const when = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '—');
export const ms = (n) => (n == null ? '—' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);
export const State = ({ s }) => html`<span class=${`state ${s}`}>${s}</span>`;
export const Err = ({ error }) => (error ? html`<p class="error">${error}</p>` : null);
export const go = (path) => (e) => { e.preventDefault(); navigate(path); };
