// The pages' entry point: loads the catalogue, who the user is and the
// desk's vocabularies, then routes {base}/... paths to page modules. Links
// inside the desk change the page without a reload; each page change sets
// the title, moves focus to the page's heading and is announced.
import { h, replace } from './dom.js';
import { loadCatalogue, t } from './i18n.js';
import { setBase, get, ApiError } from './api.js';
import { notice, problemText, announce } from './components.js';

const base = document.querySelector('meta[name="sdesk-base"]').content;

const routes = [
  { path: /^\/?$/, page: 'mine', title: 'mine.title' },
  { path: /^\/new$/, page: 'new', title: 'new.title' },
  { path: /^\/tickets\/([1-9][0-9]*)$/, page: 'ticket', title: 'ticket.title' },
  { path: /^\/known-issues$/, page: 'known', title: 'known.title' },
  { path: /^\/queue$/, page: 'queue', title: 'queue.title', agent: true },
  { path: /^\/reports$/, page: 'reports', title: 'reports.title', agent: true },
];

const ctx = {
  base,
  me: null,
  meta: null,
  flash: null,
  isAgent: false,
  navigate,
  setTitle(text) {
    document.title = `${text} – ${t('app.title')}`;
  },
};

function nav() {
  const items = [
    ['/', 'nav.mine'],
    ['/new', 'nav.new'],
    ['/known-issues', 'nav.known'],
  ];
  if (ctx.isAgent) items.push(['/queue', 'nav.queue'], ['/reports', 'nav.reports']);
  const here = location.pathname.slice(base.length) || '/';
  const ul = h('ul', {}, items.map(([p, key]) => h('li', {},
    h('a', { href: base + p, 'aria-current': here === p ? 'page' : null }, t(key)))));
  replace(document.getElementById('nav'), ul);
}

function findRoute(path) {
  for (const r of routes) {
    const m = path.match(r.path);
    if (m) return { route: r, params: m.slice(1) };
  }
  return null;
}

let renderSeq = 0;

async function render(focus) {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  const path = location.pathname.slice(base.length);
  const found = findRoute(path);
  nav();
  if (ctx.cleanup) { ctx.cleanup(); ctx.cleanup = null; }
  if (!found || (found.route.agent && !ctx.isAgent)) {
    replace(main, h('h1', { tabindex: '-1' }, t('error.page_not_found')),
            h('p', {}, h('a', { href: `${base}/` }, t('nav.mine'))));
    ctx.setTitle(t('error.page_not_found'));
    main.querySelector('h1').focus();
    return;
  }
  ctx.setTitle(t(found.route.title));
  replace(main, h('p', { class: 'loading' }, t('app.loading')));
  try {
    const mod = await import(`./pages/${found.route.page}.js`);
    if (seq !== renderSeq) return;
    const view = await mod.render(ctx, found.params);
    if (seq !== renderSeq) return;
    replace(main, view);
  } catch (err) {
    if (seq !== renderSeq) return;
    replace(main, h('h1', { tabindex: '-1' }, t('error.page_failed')),
            notice('error', problemText(err instanceof ApiError ? err : null)));
    if (!(err instanceof ApiError)) console.error(err);
  }
  if (ctx.flash) {
    const f = ctx.flash;
    ctx.flash = null;
    const h1 = main.querySelector('h1');
    const box = notice(f.kind || 'success', f.text);
    if (h1) h1.after(box); else main.prepend(box);
    announce(f.text);
  }
  const heading = main.querySelector('h1');
  if (heading && focus !== false) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

// Go to a desk path ("/tickets/12"); flash: a message shown on arrival.
function navigate(path, flash) {
  if (flash) ctx.flash = typeof flash === 'string' ? { text: flash } : flash;
  history.pushState({}, '', base + path);
  render();
}

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  const path = url.pathname;
  if (!(path === base || path.startsWith(`${base}/`)) || path.startsWith(`${base}/api/`)
      || path.startsWith(`${base}/ui/`)) return;
  if (url.hash && url.pathname === location.pathname) return;   // in-page link
  e.preventDefault();
  if (url.href === location.href) { render(); return; }
  history.pushState({}, '', url.pathname + url.search);
  render();
});

window.addEventListener('popstate', () => render());

async function boot() {
  setBase(base);
  const main = document.getElementById('main');
  try {
    await loadCatalogue(base);
  } catch (e) {
    // the shell carries this one message, filled in by the server
    const failed = document.getElementById('load-failed');
    failed.hidden = false;
    replace(main, failed);
    return;
  }
  try {
    [ctx.me, ctx.meta] = await Promise.all([get('/me'), get('/meta')]);
  } catch (err) {
    replace(main, h('h1', { tabindex: '-1' }, t('app.title')), notice('error', problemText(err)));
    main.querySelector('h1').focus();
    return;
  }
  ctx.isAgent = ctx.me.roles.includes('agent') || ctx.me.roles.includes('admin');
  replace(document.getElementById('who'), t('app.signed_in_as', { name: ctx.me.name || ctx.me.user, tenant: ctx.me.tenant }));
  await render(false);
}

boot();
