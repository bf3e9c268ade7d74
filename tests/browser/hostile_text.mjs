// Script-laden text from users shows as text on every page: subjects,
// descriptions, comments, known-issue titles and workarounds, and the
// suggestions. Nothing runs, no element is injected, the CSP reports nothing.
import { scenario, pageAs, open, ready, shot, clean, axe, assert, text, api } from './lib.mjs';

const TAG = Date.now().toString(36);
const SUBJECT = `<img src=x onerror="window.__xss=1"> Printer ${TAG}`;
const DESC = '<script>window.__xss=2</script><b>bold?</b>';
const COMMENT = '<a href="javascript:window.__xss=3">click</a><iframe src="javascript:1"></iframe>';
const KI_TITLE = `<svg onload="window.__xss=4">Label printers ${TAG}`;
const KI_WORK = '<img src=x onerror="window.__xss=5">Restart';

async function noInjection(page, label) {
  const found = await page.evaluate(() => ({
    xss: window.__xss,
    imgs: document.querySelectorAll('main img[src="x"]').length,
    scripts: [...document.querySelectorAll('main script, main iframe, main svg[onload]')].length,
    jsLinks: [...document.querySelectorAll('a[href^="javascript:"]')].length,
  }));
  assert(found.xss === undefined, `${label}: injected script ran (${found.xss})`);
  assert(found.imgs === 0 && found.scripts === 0 && found.jsLinks === 0,
         `${label}: injected elements ${JSON.stringify(found)}`);
}

await scenario('script-laden text renders as text', async (browser) => {
  const tk = await api('alice', 'POST', '/tickets', { subject: SUBJECT, description: DESC, category: 'other',
    urgency: 'not-blocking', impact: 'single', service: '<i>svc</i>', encounter_id: '"><img src=x>',
    page_url: 'javascript:window.__xss=6' }).catch(async () => api('alice', 'POST', '/tickets', {
    subject: SUBJECT, description: DESC, category: 'other', urgency: 'not-blocking', impact: 'single',
    service: '<i>svc</i>', encounter_id: '"><img src=x>' }));
  await api('tom', 'POST', `/tickets/${tk.id}/comments`, { body: COMMENT, internal: false });
  await api('tom', 'POST', '/known-issues', { title: KI_TITLE, workaround: KI_WORK, symptoms: '<style>*{display:none}</style>' });

  const rep = await pageAs(browser, 'alice');
  await open(rep, '/');
  assert((await text(rep, '.cards')).includes(SUBJECT), 'subject shown literally in My tickets');
  await noInjection(rep, 'my tickets');

  await open(rep, `/tickets/${tk.id}`);
  assert((await text(rep, 'h1')).includes(SUBJECT), 'subject literal in the heading');
  const conv = await text(rep, '[aria-labelledby="conv-title"]');
  assert(conv.includes(DESC) && conv.includes(COMMENT), 'description and comment literal');
  assert((await text(rep, '.facts')).includes('"><img src=x>'), 'encounter literal');
  await noInjection(rep, 'ticket page');
  await shot(rep, 'hostile-ticket');

  await open(rep, `/known-issues?q=${encodeURIComponent(TAG)}`);
  const kis = await text(rep, '.cards');
  assert(kis.includes(KI_TITLE) && kis.includes(KI_WORK), 'known issue literal');
  await noInjection(rep, 'known issues');

  await open(rep, '/new');
  await rep.getByLabel('Subject').pressSequentially(`Label printers ${TAG}`, { delay: 10 });
  await rep.locator('.suggest:not([hidden]) .ki-card').first().waitFor();
  assert((await text(rep, '.suggest')).includes(KI_TITLE), 'suggested known issue literal');
  await noInjection(rep, 'suggestions');
  await axe(rep, 'new-ticket-suggestions');

  const agent = await pageAs(browser, 'tom');
  await open(agent, `/queue?q=${TAG}`);
  assert((await text(agent, '.cards')).includes(SUBJECT), 'subject literal in the queue');
  await noInjection(agent, 'queue');
  await open(agent, `/tickets/${tk.id}`);
  await agent.locator('details.history summary').click();
  await noInjection(agent, 'agent ticket page');
  await clean(rep, 'reporter');
  await clean(agent, 'agent');
});
