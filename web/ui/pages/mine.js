// "My tickets": what I reported, open ones first, closed ones a tab away.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { ticketList } from '../tickets.js';

export async function render(ctx) {
  const params = new URLSearchParams(location.search);
  const which = params.get('show') === 'done' ? 'done' : 'active';
  const tabs = h('ul', { class: 'tabs' },
    ['active', 'done'].map((w) => h('li', {},
      h('a', { href: `${ctx.base}/${w === 'done' ? '?show=done' : ''}`, 'aria-current': w === which ? 'page' : null },
        t(`mine.tab_${w}`)))));
  const list = ticketList(ctx, { scope: 'mine', status: which },
                          { label: t(`mine.tab_${which}`), empty: t(`mine.empty_${which}`) });
  await list.ready;
  return h('section', {},
    h('h1', {}, t('mine.title')),
    h('p', {}, h('a', { href: `${ctx.base}/new`, class: 'button' }, t('mine.new'))),
    h('nav', { 'aria-label': t('mine.tabs_label') }, tabs),
    h('h2', { class: 'visually-hidden' }, t(`mine.tab_${which}`)),
    list);
}
