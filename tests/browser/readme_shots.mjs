// The README's screenshots, taken from `make demo` (its seeded data):
//   SDESK_URL=http://127.0.0.1:8088/sdesk SDESK_ARTIFACTS=../../docs node readme_shots.mjs
import { scenario, pageAs, open, shot } from './lib.mjs';

await scenario('README screenshots', async (browser) => {
  const page = await pageAs(browser, 'bob', { viewport: { width: 1100, height: 900 } });
  await open(page, '/new');
  await page.getByLabel('Subject').pressSequentially('label printer blank', { delay: 20 });
  await page.locator('.suggest .ki-card').first().waitFor();
  await page.getByLabel('Category').selectOption('device');
  await page.getByLabel('Job function affected').check();
  await page.getByLabel('Multiple users').check();
  await shot(page, 'new-ticket');
  const agent = await pageAs(browser, 'tom', { viewport: { width: 1100, height: 900 } });
  await open(agent, '/queue');
  await shot(agent, 'queue');
});
