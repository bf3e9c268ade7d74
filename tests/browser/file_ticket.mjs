// A reporter files a ticket: the empty form's errors, the live priority,
// a screenshot pasted from the clipboard, a file chosen and one dropped,
// then the ticket in "My tickets".
// Prints "TICKET <id>" for the pytest side to check the database.
import { scenario, pageAs, open, ready, shot, clean, axe, assert, text, announced } from './lib.mjs';

const SUBJECT = process.env.SUBJECT || 'Ward 7 label printer prints blank labels';

// A real PNG (1x1 red pixel): the server sniffs content, not names.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

await scenario('reporter files a ticket with a pasted screenshot', async (browser) => {
  const page = await pageAs(browser, 'alice', { permissions: ['clipboard-read', 'clipboard-write'] });
  await open(page, '/new');
  await axe(page, 'new-ticket-empty');
  await shot(page, 'new-ticket-empty');

  // Sending the empty form: an error summary, focused, linking to fields.
  await page.getByRole('button', { name: 'Send ticket' }).click();
  const summary = page.locator('.error-summary');
  await summary.waitFor();
  assert(await summary.evaluate((el) => el === document.activeElement), 'the error summary has focus');
  const errors = await page.locator('.error-summary li').count();
  assert(errors >= 4, `at least 4 field errors listed, got ${errors}`);
  const subj = page.getByLabel('Subject');
  assert((await subj.getAttribute('aria-invalid')) === 'true', 'subject marked invalid');
  const described = await subj.getAttribute('aria-describedby');
  assert(described && described.split(' ').some((id) => id.endsWith('-error')), 'subject error tied by aria-describedby');
  await axe(page, 'new-ticket-errors');
  await shot(page, 'new-ticket-errors');

  await subj.fill(SUBJECT);
  await page.getByLabel('Category').selectOption('device');
  await page.getByLabel('Job function affected').check();
  await page.getByLabel('Multiple users').check();
  const prio = await text(page, '#priority-output');
  assert(/Priority: High/.test(prio), `live priority shows High: ${prio}`);
  await page.getByLabel('Description').fill('Since the 8:00 restart every label comes out blank.\nTried: power cycle.');
  await page.getByLabel('Encounter or case number').fill('ENC-2026-0042');

  // Paste a screenshot: put a PNG on the clipboard, press Ctrl+V.
  await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const blob = new Blob([bytes], { type: 'image/png' });
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
  }, PNG.toString('base64'));
  await page.getByLabel('Description').focus();
  await page.keyboard.press('Control+V');
  await page.locator('.file-list li').first().waitFor();
  const fname = await text(page, '.file-list .file-name');
  assert(/^screenshot-.*\.png$/.test(fname), `pasted file named like a screenshot: ${fname}`);
  // the live region says it (screen readers announce it)
  await announced(page, /Screenshot pasted/);
  // The file picker (a log file) and drag and drop (a GIF) as well.
  await page.getByLabel('Screenshots and files').setInputFiles({
    name: 'printer.log', mimeType: 'text/plain', buffer: Buffer.from('08:00 spooler restarted\n08:01 label job 42: blank\n') });
  const drop = await page.evaluateHandle(() => {
    const gif = Uint8Array.from(atob('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=='), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([gif], 'dropped.gif', { type: 'image/gif' }));
    return dt;
  });
  await page.dispatchEvent('.drop-zone', 'drop', { dataTransfer: drop });
  await page.waitForFunction(() => document.querySelectorAll('.file-list li').length === 3);
  await axe(page, 'new-ticket-filled');
  await shot(page, 'new-ticket-filled');

  await page.getByRole('button', { name: 'Send ticket' }).click();
  await page.waitForURL(/\/tickets\/\d+$/);
  await ready(page);
  const id = Number(page.url().match(/\/tickets\/(\d+)$/)[1]);
  const h1 = await text(page, 'h1');
  assert(h1.includes(SUBJECT), `ticket page heading has the subject: ${h1}`);
  assert(/was created/.test(await text(page, '.notice-success')), 'a success notice');
  assert(await page.locator('h1').evaluate((el) => el === document.activeElement), 'focus on the heading');
  await page.locator('.attachments li').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.attachments li').length === 3);
  assert((await page.locator('.attachments img').count()) === 2, 'the two images show as images');
  assert((await text(page, '.facts')).includes('ENC-2026-0042'), 'encounter id shown');
  await axe(page, 'ticket-reporter');
  await shot(page, 'ticket-reporter');

  await page.getByRole('link', { name: 'My tickets' }).first().click();
  await ready(page);
  const card = page.locator('.ticket-card', { hasText: SUBJECT });
  assert((await card.count()) === 1, 'the new ticket is in My tickets');
  assert((await card.locator('.badge-status-new').innerText()).trim() === 'New', 'status badge in words');
  await axe(page, 'my-tickets');
  await shot(page, 'my-tickets');
  await clean(page, 'file a ticket');
  console.log(`TICKET ${id}`);
});
