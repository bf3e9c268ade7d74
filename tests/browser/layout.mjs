// Reflow: a phone viewport (320 CSS px, WCAG 1.4.10) and 200% zoom (a
// 1280 px window zoomed to 640 CSS px) show every page without horizontal
// scrolling; dates follow the user's locale and time zone.
import { scenario, pageAs, open, shot, clean, axe, assert, text, api, unique } from './lib.mjs';

async function noHorizontalScroll(page, label) {
  const m = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert(m.sw <= m.cw + 1, `${label}: horizontal scrolling (${m.sw} > ${m.cw})`);
}

await scenario('phone, zoom and locale', async (browser) => {
  const tk = await api('alice', 'POST', '/tickets', { subject: unique('Phone layout check: a rather long subject line that has to wrap nicely'),
    description: 'x', category: 'access', urgency: 'job-stopped', impact: 'single' });
  const views = [
    { name: 'phone', viewport: { width: 320, height: 640 }, deviceScaleFactor: 2 },
    { name: 'zoom200', viewport: { width: 640, height: 450 }, deviceScaleFactor: 2 },
  ];
  for (const v of views) {
    for (const [user, paths] of [['alice', ['/', '/new', `/tickets/${tk.id}`, '/known-issues']],
                                 ['tom', ['/queue', `/tickets/${tk.id}`, '/reports']]]) {
      const page = await pageAs(browser, user, v);
      for (const p of paths) {
        await open(page, p);
        await noHorizontalScroll(page, `${v.name} ${user} ${p}`);
        if (p === '/new' || p === '/queue') await shot(page, `${v.name}${p.replace(/\//g, '-')}`);
      }
      if (v.name === 'phone' && user === 'alice') await axe(page, 'phone-known-issues');
      await clean(page, `${v.name} ${user}`);
      await page.context().close();
    }
  }

  // Dates in the user's locale and zone, from the API's UTC times.
  const page = await pageAs(browser, 'alice', { locale: 'de-DE', timezoneId: 'America/New_York' });
  await open(page, `/tickets/${tk.id}`);
  const shown = await page.locator(`time[datetime="${tk.created_at}"]`).first().innerText();
  const expected = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'America/New_York' })
    .format(new Date(tk.created_at));
  assert(shown.trim() === expected, `created time in de-DE / New York: "${shown}" vs "${expected}"`);
  await clean(page, 'locale');
});
