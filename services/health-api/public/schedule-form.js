// The form of a runtime schedule entry, to create one or to change one: its fields as a person writes them (cron
// or every, JSON args, times in the browser's zone), read into the JSON form the API takes. A refusal is shown
// next to the field it names; a change is made against the version the form was opened at, so one made after
// someone else's is refused, said so, and never saved over theirs.
// Values are always children (text), never HTML.
import { useState } from '/assets/hooks.mjs';
import { api, html } from '/assets/app.js';
import { useData } from '/assets/common.js';

export const entryPath = (name) => `/api/schedules/${encodeURIComponent(name)}`;

const BLANK = {
  name: '', task: '', kind: 'cron', schedule: '', timezone: '', args: '[]', kwargs: '{}', queue: '', overlap: 'allow', jitter: '', expires: '',
  startAt: '', endAt: '', misfire: 'once', misfireGrace: '', misfireCap: '', note: '',
};
/** The fields of the form a refusal can name; any other is shown under the form. */
const FIELDS = new Set(['name', 'task', 'schedule', 'timezone', 'args', 'kwargs', 'queue', 'overlap', 'jitter', 'expires', 'startAt', 'endAt', 'misfire', 'note']);
/** The fields a change sends as null when left blank: back to their default. */
const OPTIONAL = ['queue', 'expires', 'timezone', 'jitter', 'startAt', 'endAt', 'note'];

/** `2026-03-01T09:30:00.000Z` as a datetime-local value in the browser's zone. */
function localInput(iso) {
  if (!iso) return '';
  const at = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

/** The form's values of an entry: its `definition` (the JSON form it is stored in) and its note. */
function valuesOf(entry) {
  const d = entry.definition;
  const misfire = typeof d.misfire === 'object' && d.misfire !== null ? d.misfire : { policy: d.misfire ?? 'once' };
  const text = (value) => (value == null ? '' : String(value));
  return {
    name: entry.name, task: text(d.task), kind: typeof d.schedule === 'object' && d.schedule !== null ? 'every' : 'cron',
    schedule: typeof d.schedule === 'object' && d.schedule !== null ? text(d.schedule.every) : text(d.schedule),
    timezone: text(d.timezone), args: JSON.stringify(d.args ?? []), kwargs: JSON.stringify(d.kwargs ?? {}), queue: text(d.queue),
    overlap: d.overlap ?? 'allow', jitter: text(d.jitter), expires: text(d.expires), startAt: localInput(d.startAt), endAt: localInput(d.endAt),
    misfire: misfire.policy, misfireGrace: text(misfire.grace), misfireCap: text(misfire.cap), note: text(entry.note),
  };
}

/**
 * The entry the values describe, in the API's JSON form (blank optional fields as null), and what the browser can
 * already tell is wrong, by field. An interval keeps the anchor it was stored with.
 */
function read(values, stored) {
  const problems = {};
  const json = (field, isRight, example) => {
    let value;
    try {
      value = JSON.parse(values[field]);
    } catch { /* said below */ }
    if (!isRight(value)) problems[field] = `${field}: not ${example}`;
    return value;
  };
  const args = json('args', Array.isArray, 'a JSON array, e.g. ["eu", 3]');
  const kwargs = json('kwargs', (v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'a JSON object, e.g. {"region": "eu"}');
  const optional = Object.fromEntries(OPTIONAL.map((field) => [field, values[field].trim() || null]));
  for (const field of ['startAt', 'endAt']) {
    // datetime-local is the browser's zone; the API takes instants.
    if (optional[field] !== null) optional[field] = new Date(optional[field]).toISOString();
  }
  const anchor = typeof stored?.schedule === 'object' && stored.schedule?.anchor ? { anchor: stored.schedule.anchor } : {};
  const grace = values.misfireGrace.trim();
  const cap = values.misfireCap.trim();
  const entry = {
    task: values.task.trim(),
    schedule: values.kind === 'cron' ? values.schedule.trim() : { every: values.schedule.trim(), ...anchor },
    args, kwargs, overlap: values.overlap,
    // A cap is only the policy all's; the field is hidden, not cleared, when another is chosen.
    misfire: grace || (cap && values.misfire === 'all') ? { policy: values.misfire, ...(grace ? { grace } : {}), ...(cap && values.misfire === 'all' ? { cap: Number(cap) } : {}) } : values.misfire,
    ...optional,
  };
  return { entry, problems };
}

/** The field of the form an API error names (`misfire.cap` is the misfire field's), or `form`. */
const fieldOf = (parameter) => {
  const field = parameter?.split(/[.[]/)[0];
  return FIELDS.has(field) ? field : 'form';
};

/** One row of the form: its label, its control(s), and what is wrong with it (else a hint). */
const Field = ({ name, label, problem, hint, children }) => html`<div class="field" data-field=${name}>
  <label for=${`entry-${name}`}>${label}</label><span class="control">${children}</span>
  <span class=${problem ? 'error' : 'muted'} data-problem=${problem ? name : undefined}>${problem ?? hint}</span></div>`;

/**
 * A new runtime entry (no `entry`), or a change of `entry` against the version it had when the form opened.
 * `saved(view)` once the API stored it; `cancel()`.
 */
export function EntryForm({ entry, saved, cancel }) {
  const [opened, setOpened] = useState(entry ?? null);
  const [values, setValues] = useState(() => (entry ? valuesOf(entry) : BLANK));
  const [problems, setProblems] = useState({});
  const [conflict, setConflict] = useState(null);
  const [busy, setBusy] = useState(false);
  const [overview] = useData('/api/overview', false);
  const [schedules] = useData('/api/schedules', false);
  const tasks = overview?.app?.tasks ?? [];
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];

  const set = (field) => (e) => setValues({ ...values, [field]: e.target.value });
  const input = (field, attributes = {}) => html`<input id=${`entry-${field}`} name=${field} value=${values[field]} onInput=${set(field)} ...${attributes} />`;
  const select = (field, options) => html`<select id=${`entry-${field}`} name=${field} value=${values[field]} onChange=${set(field)}>${options.map((o) => html`<option>${o}</option>`)}</select>`;
  const field = (name, label, hint, children) => html`<${Field} name=${name} label=${label} problem=${problems[name]} hint=${hint}>${children}<//>`;

  const submit = async (e) => {
    e.preventDefault();
    const { entry: written, problems: wrong } = read(values, opened?.definition);
    const changes = opened ? changesOf(opened, written) : null;
    if (changes !== null && Object.keys(changes).length === 0) wrong.form = 'nothing to save: the form is as the entry is';
    setProblems(wrong);
    setConflict(null);
    if (Object.keys(wrong).length > 0) return;
    setBusy(true);
    let view;
    try {
      view = opened
        ? await api(entryPath(opened.name), { method: 'PATCH', body: changes, headers: { 'if-match': `"${opened.version}"` } })
        : await api('/api/schedules', { method: 'POST', body: { name: values.name.trim(), ...withoutNulls(written) } });
    } catch (error) {
      if (error.code === 'E_SCHEDULE_CONFLICT') {
        setConflict(await api(entryPath(opened.name)).then((current) => ({ current }), (reading) => ({ reading: reading.message })));
      } else {
        setProblems({ [fieldOf(error.parameter)]: error.message });
      }
      setBusy(false);
      return;
    }
    setBusy(false);
    saved(view);
  };
  // Their entry as it is now replaces the form's values: the person sees what changed and makes their change again.
  const reload = () => {
    setOpened(conflict.current);
    setValues(valuesOf(conflict.current));
    setConflict(null);
    setProblems({});
  };

  const taskChoices = [...new Set([...(values.task && !tasks.includes(values.task) ? [values.task] : []), ...tasks])];
  const appZone = schedules?.timezone;
  return html`<form class="entry" aria-label=${opened ? `edit ${opened.name}` : 'new schedule'} onSubmit=${submit}>
    <h3>${opened ? html`Edit ${opened.name} <span class="muted">version ${opened.version}</span>` : 'New schedule'}</h3>
    ${field('name', 'name', opened ? 'an entry is not renamed: create another and remove this one' : 'letters, digits and . _ : @ -',
      input('name', { required: true, disabled: opened !== null, autocomplete: 'off' }))}
    ${field('task', 'task', 'one of the app\'s tasks', tasks.length > 0
      ? html`<select id="entry-task" name="task" required value=${values.task} onChange=${set('task')}><option value="">choose a task</option>${taskChoices.map((t) => html`<option>${t}</option>`)}</select>`
      : input('task', { required: true }))}
    ${field('schedule', 'schedule', values.kind === 'cron' ? 'five fields, read in the zone below, e.g. 0 9 * * mon-fri' : 'an interval, e.g. 5m, 1h',
      html`${select('kind', ['cron', 'every'])}${input('schedule', { required: true, class: 'mono', placeholder: values.kind === 'cron' ? '0 9 * * mon-fri' : '5m' })}`)}
    ${field('timezone', 'zone', `the IANA zone the cron is read in; blank: the app's${appZone ? ` (${appZone})` : ''}`,
      html`${input('timezone', { list: 'entry-zones', placeholder: appZone ? `${appZone} (the app's)` : 'the app\'s' })}<datalist id="entry-zones">${zones.map((z) => html`<option value=${z} />`)}</datalist>`)}
    ${field('args', 'args', 'a JSON array', input('args', { class: 'mono' }))}
    ${field('kwargs', 'kwargs', 'a JSON object', input('kwargs', { class: 'mono' }))}
    ${field('queue', 'queue', 'blank: the task\'s queue', input('queue'))}
    ${field('overlap', 'overlap', 'while its last run has not finished: allow sends another, skip does not, buffer-one sends once it finishes', select('overlap', ['allow', 'skip', 'buffer-one']))}
    ${field('jitter', 'jitter', 'each run is sent a fixed offset of up to this after its fire time, e.g. 30s', input('jitter', { placeholder: 'none' }))}
    ${field('expires', 'expires', 'a run not started this long after it was sent is not run', input('expires', { placeholder: 'never' }))}
    ${field('startAt', 'starts', 'your browser\'s time: no fire time before it', input('startAt', { type: 'datetime-local', step: 1 }))}
    ${field('endAt', 'ends', 'your browser\'s time: no fire time after it', input('endAt', { type: 'datetime-local', step: 1 }))}
    ${field('misfire', 'misfire', 'fire times missed while beat was down: skip them, send once (default), or all (up to the cap)',
      html`${select('misfire', ['skip', 'once', 'all'])}${input('misfireGrace', { placeholder: 'grace, e.g. 10m' })}${values.misfire === 'all' ? input('misfireCap', { placeholder: 'cap', type: 'number', min: 1 }) : null}`)}
    ${field('note', 'note', 'why it exists, or why it changed', input('note'))}
    ${conflict ? html`<div class="conflict" role="alert" data-conflict>${conflict.current
      ? html`<b>Not saved: someone changed ${opened.name} meanwhile.</b> You edited version ${opened.version}; it is at version <b data-current-version>${conflict.current.version}</b> now,
        changed by ${conflict.current.updatedBy ?? 'someone'}${conflict.current.updatedAt ? ` at ${new Date(conflict.current.updatedAt).toLocaleString()}` : ''}.
        <button type="button" data-action="reload-entry" onClick=${reload}>Reload version ${conflict.current.version}</button> <span class="muted">your edits in this form are replaced by the entry as it is now</span>`
      : html`<b>Not saved: someone changed ${opened.name} meanwhile</b>, and it cannot be read again: ${conflict.reading}`}</div>` : null}
    ${problems.form ? html`<p class="error" data-problem="form">${problems.form}</p>` : null}
    <div class="buttons"><button disabled=${busy}>${opened ? `Save against version ${opened.version}` : 'Create'}</button>
      <button type="button" class="plain" onClick=${cancel}>Cancel</button></div></form>`;
}

const withoutNulls = (entry) => Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== null));

/** The fields of `written` that differ from the entry as stored: what a change sends (a blank one as null). */
function changesOf(stored, written) {
  const before = { ...stored.definition, note: stored.note };
  const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return Object.fromEntries(Object.entries(written).filter(([field, value]) => !same(before[field], value)));
}
