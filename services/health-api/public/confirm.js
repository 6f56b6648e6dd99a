// A confirmation in the page (not the browser's confirm(): it names what will happen, can hold a note or a rate,
// and shows in screenshots). One open at a time: `ask({ title, text, action, danger, fields })` resolves with the
// fields' values when confirmed, or null when cancelled.
import { useState } from '/assets/hooks.mjs';
import { html } from '/assets/app.js';

const STYLE = `.confirm-backdrop { position: fixed; inset: 0; background: rgb(0 0 0 / .35); display: grid; place-items: center; z-index: 10; }
.confirm { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; width: min(520px, 92vw); box-shadow: 0 8px 30px rgb(0 0 0 / .25); }
.confirm h3 { margin: 0 0 8px; } .confirm p { margin: 0 0 12px; } .confirm label { display: grid; gap: 4px; margin-bottom: 10px; }
.confirm textarea { font: 12px ui-monospace, Menlo, monospace; min-height: 5em; padding: 6px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--text); }
.confirm .buttons { display: flex; gap: 8px; justify-content: flex-end; }
progress { width: 260px; height: 12px; } .new-letters { cursor: pointer; }`;

export function ConfirmStyle() {
  return html`<style>${STYLE}</style>`;
}

/** `[dialog, ask]`: render `dialog` somewhere in the page; `ask(options)` opens it. */
export function useConfirm() {
  const [open, setOpen] = useState(null);
  const ask = (options) => new Promise((resolve) => {
    setOpen({ ...options, values: Object.fromEntries((options.fields ?? []).map((f) => [f.name, f.value ?? ''])), resolve });
  });
  const close = (result) => { open?.resolve(result); setOpen(null); };
  const dialog = open ? html`<div class="confirm-backdrop"><div class="confirm" role="dialog" aria-label=${open.title}>
    <h3>${open.title}</h3><p data-confirm-text>${open.text}</p>
    ${(open.fields ?? []).map((f) => html`<label>${f.label}${f.multiline
      ? html`<textarea name=${f.name} value=${open.values[f.name]} onInput=${(e) => { open.values[f.name] = e.target.value; }} />`
      : html`<input name=${f.name} value=${open.values[f.name]} onInput=${(e) => { open.values[f.name] = e.target.value; }} />`}</label>`)}
    <div class="buttons"><button class="plain" onClick=${() => close(null)}>Cancel</button><button class=${open.danger ? 'danger' : ''} data-confirm onClick=${() => close({ ...open.values })}>${open.action}</button></div>
  </div></div>` : null;
  return [html`<${ConfirmStyle} />${dialog}`, ask];
}
