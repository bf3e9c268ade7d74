// A near-duplicate subject (with a typo) brings up the known issue and its
// workaround while typing; "This is my problem" files a ticket linked to it.
// Prints "TICKET <id>" and "KI <id>".
import { scenario, pageAs, open, ready, shot, clean, axe, assert, text, api, announced } from './lib.mjs';

await scenario('near-duplicate shows the known issue', async (browser) => {
  const tag = Date.now().toString(36);
  const ki = await api('tom', 'POST', '/known-issues', {
    title: `Label printer prints blank labels after restart ${tag}`,
    symptoms: 'Labels come out blank after the morning restart.',
    workaround: 'Switch the printer off and on twice, then print a test label.',
    categories: ['device'] });
  const page = await pageAs(browser, 'alice');
  await open(page, '/new');
  await page.getByLabel('Subject').pressSequentially(`lable printer blank ${tag}`, { delay: 15 });
  const card = page.locator('.suggest .ki-card', { hasText: ki.title });
  await card.waitFor();
  assert((await card.innerText()).includes('Switch the printer off and on twice'), 'the workaround is shown');
  await announced(page, /may match your subject/);
  await axe(page, 'new-ticket-suggestion');
  await shot(page, 'new-ticket-suggestion');

  await page.getByLabel('Category').selectOption('device');
  await card.getByRole('button', { name: /This is my problem/ }).click();
  await page.waitForURL(/\/tickets\/\d+$/);
  await ready(page);
  const id = Number(page.url().match(/\/tickets\/(\d+)$/)[1]);
  assert(/linked to the known issue/.test(await text(page, '.notice-success')), 'linked notice');
  assert((await text(page, '.known-link')).includes(ki.title), 'the known issue on the ticket page');
  await axe(page, 'ticket-linked');
  await clean(page, 'suggest');
  console.log(`TICKET ${id}`);
  console.log(`KI ${ki.id}`);
});
