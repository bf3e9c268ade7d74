// A list of ticket summaries as cards (they reflow on a phone and at 200%
// zoom), with "Show more" for the next page.
import { h, clear } from './dom.js';
import { t, term, relative, formatDate } from './i18n.js';
import { get, query } from './api.js';
import { badge, slaBadge, notice, problemText, announce, busy } from './components.js';

export function ticketCard(ctx, s, { showReporter, showDue } = {}) {
  return h('li', { class: 'card ticket-card' },
    h('h3', { class: 'card-title' },
      h('a', { href: `${ctx.base}/tickets/${s.id}` }, h('span', { class: 'key' }, s.key), ' ', s.subject)),
    h('p', { class: 'badges' },
      badge('status', s.status), ' ', badge('priority', s.priority), ' ', slaBadge(s)),
    h('dl', { class: 'card-meta' },
      h('div', {}, h('dt', {}, t('ticket.category')), h('dd', {}, term('category', s.category))),
      h('div', {}, h('dt', {}, t('ticket.tier')), h('dd', {}, term('tier', s.tier))),
      showReporter && s.reporter ? h('div', {}, h('dt', {}, t('ticket.reporter')), h('dd', {}, s.reporter.name || s.reporter.user)) : null,
      h('div', {}, h('dt', {}, t('ticket.assignee')), h('dd', {}, s.assignee ? (s.assignee.name || s.assignee.user || s.assignee) : t('ticket.unassigned'))),
      showDue && s.resolution_due_at
        ? h('div', {}, h('dt', {}, t('ticket.resolution_due')), h('dd', {}, h('time', { datetime: s.resolution_due_at, title: formatDate(s.resolution_due_at) }, relative(s.resolution_due_at))))
        : h('div', {}, h('dt', {}, t('ticket.updated')), h('dd', {}, h('time', { datetime: s.updated_at }, formatDate(s.updated_at))))));
}

// Fetch and show tickets for params (scope, status, ...). Returns the
// section element; empty text when there are none.
export function ticketList(ctx, params, { label, empty, cardOpts } = {}) {
  const list = h('ul', { class: 'cards', 'aria-label': label });
  const status = h('p', { class: 'list-status' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('list.more'));
  const section = h('div', { class: 'ticket-list' }, status, list, more);
  let cursor = null;
  let count = 0;
  const load = async (first) => {
    busy(more, true);
    try {
      const page = await get(`/tickets${query({ ...params, limit: 25, cursor })}`);
      const before = list.children.length;
      for (const s of page.items) list.appendChild(ticketCard(ctx, s, cardOpts));
      count += page.items.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = count ? t('list.count', { n: count }) + (cursor ? ` ${t('list.more_available')}` : '')
                                 : (empty || t('list.empty'));
      if (!first) {
        announce(t('list.loaded', { n: page.items.length }));
        const a = list.children[before]?.querySelector('a');
        if (a) a.focus();
      }
    } catch (err) {
      section.appendChild(notice('error', problemText(err)));
    } finally {
      busy(more, false);
    }
  };
  more.addEventListener('click', () => load(false));
  section.ready = load(true);
  return section;
}

