// New ticket: the form staff fill in a hurry. Urgency and impact give the
// priority (shown live, with the matrix's wording); known issues and
// similar tickets appear as the subject is typed, and "This is my problem"
// files a ticket linked to the known issue instead of a fresh one.
import { h, replace, clear } from '../dom.js';
import { t, term } from '../i18n.js';
import { get, post, request, upload, query, ApiError } from '../api.js';
import { field, choiceGroup, select, errorSummary, showProblem, problemText, filePicker,
         notice, announce, badge, busy } from '../components.js';

// What the browser can tell about itself, for the device fields.
function browserFacts() {
  const ua = navigator.userAgent;
  const uad = navigator.userAgentData;
  let os = uad && uad.platform ? uad.platform : '';
  if (!os) {
    if (/Windows NT 10/.test(ua)) os = 'Windows 10/11';
    else if (/Windows/.test(ua)) os = 'Windows';
    else if (/Android ([\d.]+)/.test(ua)) os = `Android ${RegExp.$1}`;
    else if (/iPhone|iPad/.test(ua)) os = 'iOS';
    else if (/Mac OS X/.test(ua)) os = 'macOS';
    else if (/Linux/.test(ua)) os = 'Linux';
  }
  let app = '';
  const brands = uad && uad.brands ? uad.brands.filter((b) => !/Not.?A.?Brand/i.test(b.brand)) : [];
  const pick = brands.find((b) => !/^Chromium$/.test(b.brand)) || brands[0];
  if (pick) app = `${pick.brand} ${pick.version}`;
  else {
    const m = ua.match(/(Firefox|Edg|Chrome|Chromium|Safari)\/([\d.]+)/);
    if (m) app = `${m[1] === 'Edg' ? 'Edge' : m[1]} ${m[2].split('.')[0]}`;
  }
  return { os, app };
}

export async function render(ctx) {
  const { meta } = ctx;
  const qs = new URLSearchParams(location.search);
  const summary = errorSummary();
  const fields = {};
  const limits = meta.limits;

  const subject = h('input', { type: 'text', maxlength: limits.max_subject, autocomplete: 'off',
                               value: qs.get('subject') || '' });
  fields.subject = field({ name: 'subject', label: t('new.subject'), hint: t('new.subject_hint'), control: subject, required: true });

  const suggestBox = h('section', { class: 'suggest', 'aria-labelledby': 'suggest-title', hidden: true });
  let lastFound = 0;   // announce only when the number of matches changes

  fields.category = field({ name: 'category', label: t('new.category'), hint: t('new.category_hint'), required: true,
    control: select({ allowEmpty: true, options: meta.categories.map((c) => ({ value: c, label: term('category', c) })),
                      value: qs.get('category') }) });

  fields.urgency = choiceGroup({ name: 'urgency', legend: t('new.urgency'), hint: t('new.urgency_hint'),
    options: meta.urgencies.map((u) => ({ value: u, label: term('urgency', u), hint: t(`urgency_hint.${u}`) })) });
  fields.impact = choiceGroup({ name: 'impact', legend: t('new.impact'), hint: t('new.impact_hint'),
    options: meta.impacts.map((i) => ({ value: i, label: term('impact', i), hint: t(`impact_hint.${i}`) })) });
  const prioOut = h('output', { class: 'priority-output', 'aria-live': 'polite', id: 'priority-output' });
  const direct = select({ allowEmpty: true, emptyLabel: t('new.priority_from_matrix'),
                          options: meta.priorities.map((p) => ({ value: p, label: term('priority', p) })) });
  fields.priority = field({ name: 'priority', label: t('new.priority_direct'), hint: t('new.priority_direct_hint'), control: direct });
  const directBox = h('details', { class: 'direct-priority' }, h('summary', {}, t('new.priority_choose')), fields.priority);

  const showPriority = () => {
    const u = fields.urgency.value();
    const i = fields.impact.value();
    if (direct.value) {
      replace(prioOut, t('new.priority_is_direct', { priority: term('priority', direct.value) }));
    } else if (u && i) {
      const p = meta.priority_matrix[u] && meta.priority_matrix[u][i];
      replace(prioOut, t('new.priority_is', { priority: term('priority', p) }), ' ',
              h('span', { class: 'hint' }, t(`priority_hint.${p}`)));
    } else {
      replace(prioOut, t('new.priority_pending'));
    }
  };
  for (const inp of [...fields.urgency.inputs, ...fields.impact.inputs]) inp.addEventListener('change', showPriority);
  direct.addEventListener('change', showPriority);
  showPriority();

  fields.description = field({ name: 'description', label: t('new.description'), hint: t('new.description_hint'), required: true,
    control: h('textarea', { rows: 6, maxlength: limits.max_description }) });
  fields.environment = field({ name: 'environment', label: t('new.environment'),
    control: select({ allowEmpty: true, emptyLabel: t('common.not_given'), value: 'production',
                      options: meta.environments.map((e) => ({ value: e, label: term('environment', e) })) }) });
  fields.service = field({ name: 'service', label: t('new.service'), hint: t('new.service_hint'),
    control: h('input', { type: 'text', maxlength: limits.max_field, value: qs.get('service') || '' }) });
  fields.encounter_id = field({ name: 'encounter_id', label: t('new.encounter'), hint: t('new.encounter_hint'),
    control: h('input', { type: 'text', maxlength: limits.max_field, autocomplete: 'off', value: qs.get('encounter_id') || '' }) });

  const facts = browserFacts();
  const dev = {
    id: h('input', { type: 'text', maxlength: limits.max_field, value: qs.get('device_id') || '' }),
    model: h('input', { type: 'text', maxlength: limits.max_field, value: qs.get('device_model') || '' }),
    os: h('input', { type: 'text', maxlength: limits.max_field, value: facts.os }),
    app_version: h('input', { type: 'text', maxlength: limits.max_field, value: facts.app }),
  };
  const devFields = Object.fromEntries(Object.entries(dev).map(([k, c]) =>
    [k, field({ name: `device.${k}`, label: t(`new.device_${k}`), control: c })]));
  fields.device = h('fieldset', { class: 'group', 'data-field': 'device' },
    h('legend', {}, t('new.device')), h('p', { class: 'hint' }, t('new.device_hint')),
    Object.values(devFields));
  fields.device.setError = (msg) => devFields.id.setError(msg);
  for (const [k, f] of Object.entries(devFields)) fields[`device.${k}`] = f;

  fields.cc = field({ name: 'cc', label: t('new.cc'), hint: t('new.cc_hint'),
    control: h('input', { type: 'text', autocomplete: 'off', inputmode: 'email' }) });
  const pageUrl = qs.get('page_url') || '';
  const files = filePicker({ limits, label: t('new.screenshots'), hint: t('new.screenshots_hint') });
  ctx.cleanup = () => files.detach();

  const submit = h('button', { type: 'submit' }, t('new.submit'));
  const progress = h('p', { class: 'progress', role: 'status' });

  const body = () => {
    const b = {
      subject: subject.value.trim(),
      description: fields.description.control.value,
      category: fields.category.control.value || undefined,
    };
    if (direct.value) b.priority = direct.value;
    else {
      if (fields.urgency.value()) b.urgency = fields.urgency.value();
      if (fields.impact.value()) b.impact = fields.impact.value();
    }
    const env = fields.environment.control.value;
    if (env) b.environment = env;
    for (const k of ['service', 'encounter_id']) {
      const v = fields[k].control.value.trim();
      if (v) b[k] = v;
    }
    const d = {};
    for (const [k, c] of Object.entries(dev)) if (c.value.trim()) d[k] = c.value.trim();
    if (Object.keys(d).length) b.device = d;
    const cc = fields.cc.control.value.split(/[,;\s]+/).filter(Boolean);
    if (cc.length) b.cc = cc;
    if (pageUrl) b.page_url = pageUrl;
    return b;
  };

  // Checks the browser can make before asking the server (the server
  // checks everything again).
  const localErrors = (b) => {
    const errs = [];
    if (!b.subject) errs.push({ field: 'subject', message: t('new.err_subject') });
    if (!b.category) errs.push({ field: 'category', message: t('new.err_category') });
    if (!b.priority && !b.urgency) errs.push({ field: 'urgency', message: t('new.err_urgency') });
    if (!b.priority && !b.impact) errs.push({ field: 'impact', message: t('new.err_impact') });
    if (!b.description.trim()) errs.push({ field: 'description', message: t('new.err_description') });
    return errs;
  };

  const uploadAll = async (ticket) => {
    const failed = [];
    for (let i = 0; i < files.files.length; i++) {
      const f = files.files[i];
      progress.textContent = t('new.uploading', { n: i + 1, total: files.files.length, name: f.name });
      try { await upload(ticket.id, f); } catch (err) { failed.push(`${f.name}: ${problemText(err)}`); }
    }
    return failed;
  };

  const file = async (b, kiId) => {
    const res = await request('POST', '/tickets', { body: b });
    const ticket = res.data;
    let failed = [];
    if (files.files.length) failed = await uploadAll(ticket);
    if (kiId) await post(`/tickets/${ticket.id}/link`, { known_issue_id: kiId });
    files.clearFiles();
    const text = kiId ? t('new.linked', { key: ticket.key })
                      : t('new.created', { key: ticket.key });
    ctx.navigate(`/tickets/${ticket.id}`, failed.length
      ? { kind: 'error', text: `${text} ${t('new.upload_failed', { files: failed.join('; ') })}` }
      : { kind: 'success', text });
  };

  const form = h('form', { novalidate: true, class: 'ticket-form' });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const b = body();
    const errs = localErrors(b);
    if (errs.length) { showProblem(summary, fields, { errors: errs, status: 422 }); return; }
    summary.hide();
    busy(submit, true);
    progress.textContent = t('new.sending');
    try {
      await file(b);
    } catch (err) {
      progress.textContent = '';
      if (err instanceof ApiError) showProblem(summary, fields, err);
      else throw err;
    } finally {
      busy(submit, false);
    }
  });

  // "This is my problem": file the ticket linked to the known issue. The
  // subject and the other answers are taken from the form where given.
  const mine = async (ki, button) => {
    const b = body();
    if (!b.subject) b.subject = ki.title.slice(0, limits.max_subject);
    if (!b.description.trim()) b.description = t('new.same_as_ki', { title: ki.title });
    if (!b.category) b.category = meta.categories.includes('other') ? 'other' : meta.categories[0];
    // A known problem is already being worked on: unless the user said
    // otherwise, the linked ticket does not jump the queue.
    if (!b.priority && !b.urgency && !b.impact) {
      b.urgency = meta.urgencies[meta.urgencies.length - 1];
      b.impact = meta.impacts[0];
    }
    busy(button, true);
    try {
      await file(b, ki.id);
    } catch (err) {
      if (err instanceof ApiError) showProblem(summary, fields, err); else throw err;
    } finally {
      busy(button, false);
    }
  };

  let timer = null;
  let lastQ = '';
  let seq = 0;
  const suggest = async () => {
    const q = subject.value.trim();
    if (q === lastQ) return;
    lastQ = q;
    const mySeq = ++seq;
    if (q.length < 3) { suggestBox.hidden = true; clear(suggestBox); return; }
    let res;
    try { res = await get(`/suggest${query({ q })}`); } catch (err) { return; }
    if (mySeq !== seq) return;
    clear(suggestBox);
    const kis = res.known_issues || [];
    const sims = res.similar_tickets || [];
    if (!kis.length && !sims.length) {
      suggestBox.hidden = true;
      lastFound = 0;
      return;
    }
    suggestBox.hidden = false;
    suggestBox.appendChild(h('h2', { id: 'suggest-title' }, t('new.suggest_title')));
    if (kis.length) {
      suggestBox.appendChild(h('h3', {}, t('new.suggest_known')));
      suggestBox.appendChild(h('ul', { class: 'cards' }, kis.map((ki) => {
        const btn = h('button', { type: 'button', class: 'secondary' }, t('new.this_is_mine'),
                      h('span', { class: 'visually-hidden' }, `: ${ki.title}`));
        btn.addEventListener('click', () => mine(ki, btn));
        return h('li', { class: 'card ki-card' },
          h('h4', { class: 'card-title' }, ki.title),
          h('p', { class: 'label' }, t('known.workaround')),
          h('p', { class: 'workaround text' }, ki.workaround || t('known.no_workaround')),
          btn);
      })));
    }
    if (sims.length) {
      suggestBox.appendChild(h('h3', {}, t('new.suggest_similar')));
      suggestBox.appendChild(h('ul', { class: 'plain' }, sims.map((s) => h('li', {},
        ctx.isAgent ? h('a', { href: `${ctx.base}/tickets/${s.id}` }, s.key) : h('span', { class: 'key' }, s.key),
        ' ', s.subject, ' ', badge('status', s.status)))));
    }
    if (kis.length + sims.length !== lastFound) {
      lastFound = kis.length + sims.length;
      announce(t('new.suggest_found', { n: lastFound }));
    }
  };
  subject.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 250);
  });

  const context = pageUrl ? h('p', { class: 'hint' }, t('new.page_url', { url: pageUrl })) : null;
  form.append(
    summary,
    h('p', { class: 'hint' }, t('form.required_note')),
    fields.subject, suggestBox,
    fields.category,
    h('fieldset', { class: 'group' }, h('legend', {}, t('new.priority')),
      fields.urgency, fields.impact, prioOut, directBox),
    fields.description,
    h('fieldset', { class: 'group' }, h('legend', {}, t('new.where')),
      fields.environment, fields.service, fields.encounter_id, context),
    files,
    h('details', { class: 'more' }, h('summary', {}, t('new.more')), fields.device, fields.cc),
    h('div', { class: 'actions' }, submit),
    progress);
  if (subject.value) setTimeout(suggest, 0);
  return h('section', {}, h('h1', {}, t('new.title')), h('p', {}, t('new.intro')), form);
}
