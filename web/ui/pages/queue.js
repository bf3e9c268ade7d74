// The agents' queue: tickets at my tiers, the one due first on top.
import { h } from '../dom.js';
import { t, term } from '../i18n.js';
import { query } from '../api.js';
import { field, select } from '../components.js';
import { ticketList } from '../tickets.js';

export async function render(ctx) {
  const { meta, me } = ctx;
  const qs = new URLSearchParams(location.search);
  const tiers = me.tiers && me.tiers.length ? me.tiers : meta.tiers;
  const tier = tiers.map(String).includes(qs.get('tier')) ? qs.get('tier') : '';
  const status = ['active', ...meta.statuses].includes(qs.get('status')) ? qs.get('status') : 'active';
  const priority = meta.priorities.includes(qs.get('priority')) ? qs.get('priority') : '';
  const q = (qs.get('q') || '').slice(0, 200);
  const fQ = field({ name: 'q', label: t('queue.search'), hint: t('queue.search_hint'), control: h('input', { type: 'search', value: q, autocomplete: 'off' }) });
  const fTier = field({ name: 'tier', label: t('queue.tier'), control: select({ value: tier, allowEmpty: true, emptyLabel: t('queue.all_my_tiers'), options: tiers.map((n) => ({ value: n, label: term('tier', n) })) }) });
  const fStatus = field({ name: 'status', label: t('queue.status'), control: select({ value: status, options: [{ value: 'active', label: t('queue.active') }, ...meta.statuses.map((s) => ({ value: s, label: term('status', s) }))] }) });
  const fPrio = field({ name: 'priority', label: t('queue.priority'), control: select({ value: priority, allowEmpty: true, emptyLabel: t('queue.any_priority'), options: meta.priorities.map((p) => ({ value: p, label: term('priority', p) })) }) });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('queue.filters') }, fQ, fTier, fStatus, fPrio,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('queue.apply'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(`/queue${query({ q: fQ.control.value.trim(), tier: fTier.control.value, status: fStatus.control.value === 'active' ? '' : fStatus.control.value, priority: fPrio.control.value })}`);
  });
  const list = ticketList(ctx, { scope: 'queue', status, tier, priority, q },
                          { label: t('queue.title'), empty: t('queue.empty'), cardOpts: { showReporter: true, showDue: true } });
  await list.ready;
  return h('section', {}, h('h1', {}, t('queue.title')), h('p', {}, t('queue.intro')), form,
           h('h2', { class: 'visually-hidden' }, t('queue.results')), list);
}
