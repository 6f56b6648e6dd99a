/* global document */
// A confirmation in the page (not the browser's confirm(): it names what will happen, can hold a note or a rate,
// and shows in screenshots). One open at a time: `ask({ title, text, action, danger, fields })` resolves with the
// fields' values when confirmed, or null when cancelled.
import { useState } from '/assets/hooks.mjs';
import { html } from '/assets/app.js';

// The page's styles for these, in a stylesheet of their own (the CSP allows no inline style).
if (!document.querySelector('link[href="/assets/control-queues.css"]')) {
  document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/assets/control-queues.css' }));
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
  return [dialog, ask];
}
