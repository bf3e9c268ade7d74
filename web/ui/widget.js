// "Report a problem" for any intranet page: SdeskWidget On adds
//   <script type="module" src="{base}/ui/widget.js"></script>
// to the page (mod_sdesk's output filter). This module adds a button that
// opens a modal dialog to file a ticket carrying the page's URL and the
// context the page declares:
//   <meta name="sdesk-encounter" content="ENC-1">      -> encounter_id
//   <meta name="sdesk-service" content="Lab orders">   -> service
//   data-sdesk-device="PUMP-12" on any element         -> device.id
//   data-sdesk-device-model="…"                        -> device.model
//   <meta name="sdesk-context-ward" content="5">       -> context.ward
// Everything lives in a shadow root (the page's styles cannot break it, ours
// cannot break the page) and comes from {base}/ui/ (no inline code), so it
// works under the page's own strict CSP as long as it allows 'self'.
import { h, uid } from './dom.js';
import { loadCatalogue, t, term } from './i18n.js';
import { setBase, get, request, upload, ApiError } from './api.js';
import { field, select, errorSummary, showProblem, problemText, filePicker, setAnnouncer, busy } from './components.js';

const here = new URL(import.meta.url);
const base = here.pathname.replace(/\/ui\/widget\.js$/, '');

function meta(name) {
  const el = document.querySelector(`meta[name="${name}"]`);
  return el && el.content.trim() ? el.content.trim() : null;
}

function attr(name) {
  const el = document.querySelector(`[${name}]`);
  return el && el.getAttribute(name).trim() ? el.getAttribute(name).trim() : null;
}

// What the page says about itself (trimmed to the API's limits later by the
// server, which checks everything again).
function pageContext() {
  const ctx = {};
  for (const el of document.querySelectorAll('meta[name^="sdesk-context-"]')) {
    const key = el.name.slice('sdesk-context-'.length);
    if (/^[a-z0-9_-]{1,64}$/i.test(key) && Object.keys(ctx).length < 20) ctx[key] = el.content;
  }
  const url = new URL(location.href);
  url.hash = '';
  return {
    page_url: url.href,
    encounter_id: meta('sdesk-encounter'),
    service: meta('sdesk-service'),
    device: { id: attr('data-sdesk-device'), model: attr('data-sdesk-device-model') },
    context: ctx,
  };
}

async function start() {
  if (document.querySelector('sdesk-widget, [data-sdesk-widget]')) return;   // once per page
  setBase(base);
  try {
    await loadCatalogue(base, document.documentElement.lang || navigator.language);
  } catch (e) {
    return;   // no texts, no button: the page itself is not disturbed
  }
  const host = document.createElement('div');
  host.setAttribute('data-sdesk-widget', '');
  const root = host.attachShadow({ mode: 'open' });
  root.append(h('link', { rel: 'stylesheet', href: `${base}/ui/widget.css` }));
  const live = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const opener = h('button', { type: 'button', class: 'opener' }, t('widget.open'));
  const titleId = uid('sdesk-dialog-title');
  const dialog = h('dialog', { 'aria-labelledby': titleId });
  root.append(opener, dialog, live);
  document.body.append(host);
  setAnnouncer(live);

  let loaded = null;
  let picker = null;
  opener.addEventListener('click', async () => {
    busy(opener, true);
    try {
      loaded = loaded || await Promise.all([get('/me'), get('/meta')]);
      renderForm(dialog, titleId, loaded[1], () => picker, (p) => { picker = p; });
    } catch (err) {
      renderMessage(dialog, titleId, t('widget.title'), problemText(err));
    } finally {
      busy(opener, false);
    }
    dialog.showModal();
    const first = dialog.querySelector('input, select, textarea, button');
    if (first) first.focus();
  });
  dialog.addEventListener('close', () => {
    if (picker) { picker.detach(); picker = null; }
    opener.focus();
  });
}

function closeButton(dialog) {
  const b = h('button', { type: 'button', class: 'secondary' }, t('widget.close'));
  b.addEventListener('click', () => dialog.close());
  return b;
}

function renderMessage(dialog, titleId, title, text, extra) {
  dialog.replaceChildren(h('h2', { id: titleId }, title), h('p', { role: 'alert' }, text), extra || null,
                         h('div', { class: 'actions' }, closeButton(dialog)));
}

function renderForm(dialog, titleId, m, getPicker, setPicker) {
  const old = getPicker();
  if (old) old.detach();
  const pc = pageContext();
  const summary = errorSummary();
  const fields = {
    subject: field({ name: 'subject', label: t('new.subject'), required: true,
                     control: h('input', { type: 'text', maxlength: m.limits.max_subject, autocomplete: 'off' }) }),
    category: field({ name: 'category', label: t('new.category'), required: true,
                      control: select({ allowEmpty: true, options: m.categories.map((c) => ({ value: c, label: term('category', c) })) }) }),
    urgency: field({ name: 'urgency', label: t('new.urgency'), required: true,
                     control: select({ allowEmpty: true, options: m.urgencies.map((u) => ({ value: u, label: `${term('urgency', u)}: ${t(`urgency_hint.${u}`)}` })) }) }),
    impact: field({ name: 'impact', label: t('new.impact'), required: true,
                    control: select({ allowEmpty: true, options: m.impacts.map((i) => ({ value: i, label: `${term('impact', i)}: ${t(`impact_hint.${i}`)}` })) }) }),
    description: field({ name: 'description', label: t('new.description'), hint: t('new.description_hint'), required: true,
                         control: h('textarea', { rows: 4, maxlength: m.limits.max_description }) }),
  };
  const picker = filePicker({ limits: m.limits, label: t('new.screenshots'), hint: t('widget.screenshot_hint') });
  setPicker(picker);
  const facts = [
    [t('ticket.page_url'), pc.page_url],
    pc.encounter_id ? [t('ticket.encounter'), pc.encounter_id] : null,
    pc.service ? [t('ticket.service'), pc.service] : null,
    pc.device.id ? [t('ticket.device'), pc.device.id] : null,
  ].filter(Boolean);
  const send = h('button', { type: 'submit' }, t('new.submit'));
  const form = h('form', { novalidate: true, method: 'dialog' }, summary,
    h('p', { class: 'hint' }, t('form.required_note')),
    fields.subject, fields.category, fields.urgency, fields.impact, fields.description, picker,
    h('div', { class: 'context' }, h('p', { class: 'label' }, t('widget.sent_along')),
      h('dl', {}, facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))))),
    h('div', { class: 'actions' }, send, closeButton(dialog)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      subject: fields.subject.control.value.trim(),
      description: fields.description.control.value,
      category: fields.category.control.value || undefined,
      urgency: fields.urgency.control.value || undefined,
      impact: fields.impact.control.value || undefined,
      page_url: pc.page_url,
    };
    for (const k of ['encounter_id', 'service']) if (pc[k]) body[k] = pc[k];
    const dev = Object.fromEntries(Object.entries(pc.device).filter(([, v]) => v));
    if (Object.keys(dev).length) body.device = dev;
    if (Object.keys(pc.context).length) body.context = pc.context;
    const errs = [];
    if (!body.subject) errs.push({ field: 'subject', message: t('new.err_subject') });
    if (!body.category) errs.push({ field: 'category', message: t('new.err_category') });
    if (!body.urgency) errs.push({ field: 'urgency', message: t('widget.err_urgency') });
    if (!body.impact) errs.push({ field: 'impact', message: t('widget.err_impact') });
    if (!body.description.trim()) errs.push({ field: 'description', message: t('new.err_description') });
    if (errs.length) { showProblem(summary, fields, { status: 422, errors: errs }); return; }
    busy(send, true);
    try {
      const tk = (await request('POST', '/tickets', { body })).data;
      const failed = [];
      for (const f of picker.files) {
        try { await upload(tk.id, f); } catch (err) { failed.push(`${f.name}: ${problemText(err)}`); }
      }
      picker.detach();
      const link = h('a', { href: `${base}/tickets/${tk.id}` }, t('widget.view', { key: tk.key }));
      renderMessage(dialog, dialog.getAttribute('aria-labelledby'), t('widget.done_title'),
                    `${t('new.created', { key: tk.key })}${failed.length ? ` ${t('new.upload_failed', { files: failed.join('; ') })}` : ''}`,
                    h('p', {}, link));
      dialog.querySelector('h2').setAttribute('tabindex', '-1');
      dialog.querySelector('h2').focus();
    } catch (err) {
      if (err instanceof ApiError) showProblem(summary, fields, err); else throw err;
    } finally {
      busy(send, false);
    }
  });
  dialog.replaceChildren(h('h2', { id: titleId }, t('widget.title')), h('p', {}, t('widget.intro')), form);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
