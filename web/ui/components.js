// Pieces every page uses: labelled fields with their errors, the error
// summary, badges that carry words (never colour alone), notices, the
// screenshot picker (file picker, drag and drop, paste).
import { h, uid, clear, append } from './dom.js';
import { t, term, formatDate, formatBytes, relative } from './i18n.js';

// Screen-reader announcement of a status change (the shell's live region).
let announcer = null;
export function setAnnouncer(el) {
  announcer = el;
}

export function announce(text) {
  const el = announcer || document.getElementById('announcer');
  if (!el) return;
  el.textContent = '';
  // a tick later, so the same text twice is announced twice
  setTimeout(() => { el.textContent = text; }, 50);
}

// A form field: label, optional hint, the control, and an error line tied
// to the control with aria-describedby. Returns the wrapper; wrapper.control
// is the control, wrapper.setError(msg|null) shows or clears the error.
export function field({ name, label, hint, control, required }) {
  const id = control.id || uid(`f-${name}`);
  control.id = id;
  if (!control.name) control.name = name;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const described = [hintEl ? hintEl.id : null].filter(Boolean);
  if (described.length) control.setAttribute('aria-describedby', described.join(' '));
  if (required) control.required = true;
  const wrap = h('div', { class: 'field', 'data-field': name },
                 h('label', { for: id }, label, required ? h('span', { class: 'req' }, ` ${t('form.required')}`) : null),
                 hintEl, errEl, control);
  wrap.control = control;
  wrap.setError = (msg) => setError(control, errEl, msg, hintEl);
  return wrap;
}

// A group of radio buttons or checkboxes in a fieldset with a legend.
export function choiceGroup({ name, legend, hint, type = 'radio', options, value, required }) {
  const gid = uid(`g-${name}`);
  const hintEl = hint ? h('p', { class: 'hint', id: `${gid}-hint` }, hint) : null;
  const errEl = h('p', { class: 'field-error', id: `${gid}-error`, hidden: true });
  const inputs = [];
  const items = options.map((o) => {
    const id = uid(`f-${name}`);
    const input = h('input', { type, id, name, value: o.value, checked: Array.isArray(value) ? value.includes(o.value) : value === o.value });
    inputs.push(input);
    const descId = o.hint ? `${id}-desc` : null;
    if (descId) input.setAttribute('aria-describedby', descId);
    return h('div', { class: 'choice' }, input,
             h('label', { for: id }, o.label),
             o.hint ? h('p', { class: 'hint', id: descId }, o.hint) : null);
  });
  const fs = h('fieldset', { class: 'field choices', 'data-field': name, id: gid,
                             'aria-describedby': hintEl ? hintEl.id : null },
               h('legend', {}, legend, required ? h('span', { class: 'req' }, ` ${t('form.required')}`) : null),
               hintEl, errEl, items);
  fs.inputs = inputs;
  fs.control = inputs[0];
  fs.value = () => (type === 'radio' ? (inputs.find((i) => i.checked) || {}).value || ''
                                     : inputs.filter((i) => i.checked).map((i) => i.value));
  fs.setError = (msg) => {
    errEl.hidden = !msg;
    errEl.textContent = msg ? t('form.error_prefix', { message: msg }) : '';
    const ids = [hintEl ? hintEl.id : null, msg ? errEl.id : null].filter(Boolean);
    if (ids.length) fs.setAttribute('aria-describedby', ids.join(' '));
    else fs.removeAttribute('aria-describedby');
    for (const i of inputs) {
      if (msg) i.setAttribute('aria-invalid', 'true');
      else i.removeAttribute('aria-invalid');
    }
    fs.classList.toggle('has-error', Boolean(msg));
    if (msg) openDetails(fs);
  };
  return fs;
}

function setError(control, errEl, msg, hintEl) {
  errEl.hidden = !msg;
  errEl.textContent = msg ? t('form.error_prefix', { message: msg }) : '';
  const ids = [hintEl ? hintEl.id : null, msg ? errEl.id : null].filter(Boolean);
  if (ids.length) control.setAttribute('aria-describedby', ids.join(' '));
  else control.removeAttribute('aria-describedby');
  if (msg) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
  control.closest('.field')?.classList.toggle('has-error', Boolean(msg));
  if (msg) openDetails(control);
}

// A field with an error inside a closed <details> must be seen.
function openDetails(el) {
  for (let d = el.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
}

export function select({ options, value, allowEmpty, emptyLabel }) {
  const s = h('select', {});
  if (allowEmpty) s.appendChild(h('option', { value: '' }, emptyLabel || t('form.choose')));
  for (const o of options) s.appendChild(h('option', { value: o.value, selected: String(o.value) === String(value) }, o.label));
  return s;
}

// The error summary at the top of a form: a heading and one link per field
// error; focused after a failed submit so keyboard and screen-reader users
// land on it.
export function errorSummary() {
  const list = h('ul', {});
  const heading = h('h2', { class: 'summary-title' }, t('form.problem_title'));
  const box = h('div', { class: 'error-summary', tabindex: '-1', hidden: true, role: 'alert' }, heading, list);
  box.show = (items, fallback) => {
    clear(list);
    for (const it of items) {
      const target = it.el ? it.el.control || it.el : null;
      const link = target && target.id
        ? h('a', { href: `#${target.id}`, onclick: (e) => { e.preventDefault(); target.focus(); } }, it.message)
        : it.message;
      list.appendChild(h('li', {}, link));
    }
    if (!items.length && fallback) list.appendChild(h('li', {}, fallback));
    box.hidden = false;
    box.focus();
  };
  box.hide = () => { box.hidden = true; clear(list); };
  return box;
}

// Put an ApiError's field errors next to their fields (fields: name ->
// wrapper from field()/choiceGroup()); the rest go to the summary.
export function showProblem(summary, fields, err) {
  const items = [];
  for (const f of Object.values(fields)) f.setError && f.setError(null);
  for (const e of err.errors || []) {
    const top = String(e.field || '').split(/[.[]/)[0];
    const f = fields[e.field] || fields[top];
    const msg = fieldMessage(e);
    if (f && f.setError) f.setError(msg);
    items.push({ el: f, message: f ? `${f.labelText || labelOf(f)}: ${msg}` : `${e.field}: ${msg}` });
  }
  summary.show(items, problemText(err));
}

function labelOf(f) {
  const l = f.querySelector('label, legend');
  return l ? l.firstChild.textContent : '';
}

// The server's messages are English; the catalogue can word the common ones.
function fieldMessage(e) {
  const key = `server.${e.message}`;
  const m = t(key);
  return m === key ? e.message : m;
}

export function problemText(err) {
  if (!err) return t('error.unknown');
  if (err.status === 0) return t('error.network');
  if (err.status === 401) return t('error.unauthenticated');
  if (err.status === 403) return t('error.forbidden');
  if (err.status === 404) return t('error.not_found');
  if (err.status === 409) return t('error.conflict', { detail: err.message });
  if (err.status === 412) return t('error.changed');
  if (err.status === 413) return t('error.too_large', { detail: err.message });
  if (err.status === 415) return t('error.bad_type', { detail: err.message });
  if (err.status === 503) return t('error.unavailable');
  return err.message || t('error.unknown');
}

// A notice box: kind "info" | "success" | "error". Errors use role=alert.
export function notice(kind, ...content) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null },
           h('span', { class: 'notice-label' }, t(`notice.${kind}`)), ' ', content);
}

export function badge(kind, value, extra) {
  return h('span', { class: `badge badge-${kind} badge-${kind}-${value}` }, extra || term(kind, value));
}

export function slaBadge(ticket) {
  if (!ticket.sla || ['resolved', 'closed'].includes(ticket.status)) return null;
  const due = ticket.resolution_due_at;
  const word = t(`sla.${ticket.sla}`);
  const text = due ? t('sla.with_due', { state: word, due: relative(due) }) : word;
  return h('span', { class: `badge badge-sla badge-sla-${ticket.sla}`, title: due ? formatDate(due) : null }, text);
}

export function time(iso) {
  if (!iso) return t('common.none');
  return h('time', { datetime: iso }, formatDate(iso));
}

export function busy(button, on) {
  button.disabled = on;
  button.setAttribute('aria-busy', on ? 'true' : 'false');
}

// The screenshot picker: a native file input (keyboard and screen readers
// know it), a drop zone around it, paste from the clipboard while the page
// is open, a list of chosen files with previews and Remove buttons.
// limits: { max_attachment, max_attachments }.
export function filePicker({ limits, name = 'files', label, hint }) {
  const files = [];
  const input = h('input', { type: 'file', multiple: true, accept: 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.log,.txt' });
  const list = h('ul', { class: 'file-list' });
  const errEl = h('p', { class: 'field-error', hidden: true });
  const wrap = field({ name, label, hint, control: input });
  const zone = h('div', { class: 'drop-zone' }, h('p', { class: 'drop-text' }, t('files.drop_hint')), list);
  wrap.appendChild(zone);
  wrap.appendChild(errEl);
  errEl.id = `${input.id}-limit`;

  const refresh = () => {
    clear(list);
    files.forEach((f, i) => {
      const isImage = /^image\//.test(f.type);
      const url = isImage ? URL.createObjectURL(f) : null;
      const img = url ? h('img', { src: url, alt: '', class: 'thumb' }) : null;
      if (img) img.addEventListener('load', () => URL.revokeObjectURL(url));
      list.appendChild(h('li', {}, img,
        h('span', { class: 'file-name' }, f.name), ' ',
        h('span', { class: 'file-size' }, `(${formatBytes(f.size)})`), ' ',
        h('button', { type: 'button', class: 'link-button', onclick: () => {
          files.splice(i, 1);
          refresh();
          announce(t('files.removed', { name: f.name }));
          input.focus();
        } }, t('files.remove'), h('span', { class: 'visually-hidden' }, ` ${f.name}`))));
    });
  };
  const add = (incoming, how) => {
    const problems = [];
    for (const f of incoming) {
      if (files.length >= (limits.max_attachments || 20)) { problems.push(t('files.too_many', { n: limits.max_attachments })); break; }
      if (limits.max_attachment && f.size > limits.max_attachment) { problems.push(t('files.too_big', { name: f.name, max: formatBytes(limits.max_attachment) })); continue; }
      if (f.size === 0) { problems.push(t('files.empty', { name: f.name })); continue; }
      files.push(f);
      announce(t(how === 'paste' ? 'files.pasted' : 'files.added', { name: f.name }));
    }
    errEl.hidden = !problems.length;
    errEl.textContent = problems.join(' ');
    if (problems.length) input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), errEl.id].filter(Boolean).join(' '));
    refresh();
  };
  input.addEventListener('change', () => { add([...input.files], 'pick'); input.value = ''; });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('dragging'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    add([...(e.dataTransfer?.files || [])], 'drop');
  });
  // Paste anywhere on the page (a screenshot from the clipboard).
  const onPaste = (e) => {
    const items = [...(e.clipboardData?.items || [])].filter((it) => it.kind === 'file');
    if (!items.length) return;
    e.preventDefault();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    add(items.map((it, i) => {
      const f = it.getAsFile();
      const ext = (f.type.split('/')[1] || 'png').replace('jpeg', 'jpg');
      return f.name && f.name !== 'image.png' ? f : new File([f], `screenshot-${stamp}${i ? `-${i}` : ''}.${ext}`, { type: f.type });
    }), 'paste');
  };
  document.addEventListener('paste', onPaste);
  wrap.files = files;
  wrap.detach = () => document.removeEventListener('paste', onPaste);
  wrap.clearFiles = () => { files.length = 0; refresh(); };
  return wrap;
}

export { h, append, clear };
