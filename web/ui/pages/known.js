// Known issues and their workarounds, searchable; agents add new ones and
// mark them resolved (which resolves every linked ticket).
import { h, replace, clear } from '../dom.js';
import { t, term } from '../i18n.js';
import { get, post, request, query, ApiError } from '../api.js';
import { field, select, choiceGroup, errorSummary, showProblem, problemText, notice, announce,
         badge, time, busy } from '../components.js';

const STATUSES = ['active', 'monitoring', 'resolved'];

function kiCard(ctx, ki, onResolve) {
  const resolveBtn = ctx.isAgent && ki.status !== 'resolved'
    ? h('button', { type: 'button', class: 'secondary' }, t('known.resolve'), h('span', { class: 'visually-hidden' }, `: ${ki.title}`))
    : null;
  if (resolveBtn) resolveBtn.addEventListener('click', () => onResolve(ki, resolveBtn));
  return h('li', { class: 'card ki-card', id: `ki-${ki.id}` },
    h('h2', { class: 'card-title' }, ki.title),
    h('p', { class: 'badges' }, badge('kistatus', ki.status), ' ', badge('scope', ki.scope)),
    ki.symptoms ? [h('p', { class: 'label' }, t('known.symptoms')), h('div', { class: 'text' }, ki.symptoms)] : null,
    h('p', { class: 'label' }, t('known.workaround')),
    h('div', { class: 'text workaround' }, ki.workaround || t('known.no_workaround')),
    ki.resolution ? [h('p', { class: 'label' }, t('known.resolution')), h('div', { class: 'text' }, ki.resolution)] : null,
    h('dl', { class: 'card-meta' },
      ki.services && ki.services.length ? h('div', {}, h('dt', {}, t('known.services')), h('dd', {}, ki.services.join(', '))) : null,
      ki.categories && ki.categories.length ? h('div', {}, h('dt', {}, t('known.categories')), h('dd', {}, ki.categories.map((c) => term('category', c)).join(', '))) : null,
      h('div', {}, h('dt', {}, t('known.linked')), h('dd', {}, String(ki.linked_tickets ?? 0))),
      h('div', {}, h('dt', {}, t('known.updated')), h('dd', {}, time(ki.updated_at)))),
    resolveBtn);
}

export async function render(ctx) {
  const qs = new URLSearchParams(location.search);
  const status = STATUSES.includes(qs.get('status')) ? qs.get('status') : 'active';
  const q = qs.get('q') || '';
  const search = h('input', { type: 'search', value: q, autocomplete: 'off' });
  const fQ = field({ name: 'q', label: t('known.search'), hint: t('known.search_hint'), control: search });
  const fStatus = field({ name: 'status', label: t('known.status'),
    control: select({ value: status, options: STATUSES.map((s) => ({ value: s, label: term('kistatus', s) })) }) });
  const searchForm = h('form', { role: 'search', class: 'filters', method: 'get', action: `${ctx.base}/known-issues` },
    fQ, fStatus, h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('known.search_button'))));
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(`/known-issues${query({ q: search.value.trim(), status: fStatus.control.value })}`);
  });

  const list = h('ul', { class: 'cards' });
  const status_ = h('p', { class: 'list-status', role: 'status' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('list.more'));
  let cursor = null;
  let count = 0;

  const onResolve = async (ki, btn) => {
    busy(btn, true);
    try {
      const cur = await request('GET', `/known-issues/${ki.id}`);
      await request('PATCH', `/known-issues/${ki.id}`, { body: { status: 'resolved' }, etag: cur.etag });
      ctx.navigate(`/known-issues${location.search}`, t('known.resolved_done', { title: ki.title, n: ki.linked_tickets || 0 }));
    } catch (err) {
      btn.after(notice('error', problemText(err)));
      announce(problemText(err));
    } finally { busy(btn, false); }
  };
  const load = async (first) => {
    busy(more, true);
    const page = await get(`/known-issues${query({ status, q, limit: 25, cursor })}`);
    const before = list.children.length;
    for (const ki of page.items) list.appendChild(kiCard(ctx, ki, onResolve));
    count += page.items.length;
    cursor = page.next_cursor;
    more.hidden = !cursor;
    status_.textContent = count ? t('known.count', { n: count }) : t('known.empty');
    busy(more, false);
    if (!first) list.children[before]?.querySelector('h2')?.setAttribute('tabindex', '-1');
    if (!first) list.children[before]?.querySelector('h2')?.focus();
  };
  more.addEventListener('click', () => load(false).catch((err) => more.after(notice('error', problemText(err)))));
  await load(true);

  const page = h('section', {}, h('h1', {}, t('known.title')), h('p', {}, t('known.intro')), searchForm);
  if (ctx.isAgent) page.append(createForm(ctx));
  page.append(status_, list, more);
  return page;
}

function createForm(ctx) {
  const { meta, me } = ctx;
  const summary = errorSummary();
  const fields = {
    title: field({ name: 'title', label: t('known.f_title'), required: true, control: h('input', { type: 'text', maxlength: meta.limits.max_subject }) }),
    symptoms: field({ name: 'symptoms', label: t('known.symptoms'), hint: t('known.symptoms_hint'), control: h('textarea', { rows: 3 }) }),
    workaround: field({ name: 'workaround', label: t('known.workaround'), hint: t('known.workaround_hint'), control: h('textarea', { rows: 3 }) }),
    status: field({ name: 'status', label: t('known.status'), control: select({ value: 'active', options: ['active', 'monitoring'].map((s) => ({ value: s, label: term('kistatus', s) })) }) }),
    services: field({ name: 'services', label: t('known.services'), hint: t('known.services_hint'), control: h('input', { type: 'text' }) }),
    categories: choiceGroup({ name: 'categories', type: 'checkbox', legend: t('known.categories'), options: meta.categories.map((c) => ({ value: c, label: term('category', c) })) }),
  };
  if (me.roles.includes('admin')) {
    fields.scope = choiceGroup({ name: 'scope', legend: t('known.scope'), value: 'tenant',
      options: ['tenant', 'global'].map((s) => ({ value: s, label: term('scope', s), hint: t(`known.scope_hint_${s}`) })) });
  }
  const btn = h('button', { type: 'submit' }, t('known.create'));
  const form = h('form', { novalidate: true }, summary, Object.values(fields), h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      title: fields.title.control.value.trim(),
      symptoms: fields.symptoms.control.value,
      workaround: fields.workaround.control.value,
      status: fields.status.control.value,
      services: fields.services.control.value.split(',').map((s) => s.trim()).filter(Boolean),
      categories: fields.categories.value(),
    };
    if (fields.scope) body.scope = fields.scope.value();
    if (!body.title) { showProblem(summary, fields, { status: 422, errors: [{ field: 'title', message: t('form.err_required') }] }); return; }
    busy(btn, true);
    try {
      const ki = await post('/known-issues', body);
      ctx.navigate(`/known-issues${query({ status: ki.status })}`, t('known.created', { title: ki.title }));
    } catch (err) {
      if (err instanceof ApiError) showProblem(summary, fields, err); else throw err;
    } finally { busy(btn, false); }
  });
  return h('details', { class: 'create' }, h('summary', {}, t('known.new')), form);
}
