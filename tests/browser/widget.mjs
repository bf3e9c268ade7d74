// The "Report a problem" widget on a plain page of another location
// (SdeskWidget On): the button, the modal dialog (focus in, Escape out,
// focus back), errors, a pasted screenshot, the ticket carrying the page's
// URL, encounter and device; and the same page under its own strict CSP.
// SITE_URL: the widget pages (test_720_widget.py's site). Prints "TICKET <id>".
import { scenario, pageAs, shot, clean, axe, assert } from './lib.mjs';

const SITE = process.env.SITE_URL;
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

async function activeLabel(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    return el ? `${el.tagName.toLowerCase()}:${(el.labels && el.labels[0] ? el.labels[0].textContent : el.textContent).trim().slice(0, 40)}` : '';
  });
}

// The dialog's "close" event (which moves focus back) is a queued task that
// may run after the dialog is already hidden: poll, up to 5 s.
async function focusSettles(page, prefix) {
  let label = '';
  for (let i = 0; i < 50; i++) {
    label = await activeLabel(page);
    if (label.startsWith(prefix)) return label;
    await page.waitForTimeout(100);
  }
  throw new Error(`focus never reached ${prefix}: it is on ${label}`);
}

await scenario('widget dialog files a ticket from a page', async (browser) => {
  assert(SITE, 'SITE_URL is set');
  const page = await pageAs(browser, 'alice', { permissions: ['clipboard-read', 'clipboard-write'] });
  await page.goto(`${SITE}index.html`);
  const opener = page.getByRole('button', { name: 'Report a problem' });
  await opener.waitFor();
  await axe(page, 'widget-page');

  await opener.click();
  const dialog = page.getByRole('dialog', { name: 'Report a problem with this page' });
  await dialog.waitFor();
  await focusSettles(page, 'input:Subject');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await focusSettles(page, 'button:Report a problem');

  await opener.click();
  await dialog.waitFor();
  assert((await dialog.innerText()).includes('ENC-42') && (await dialog.innerText()).includes('MON-4'),
         'the page context is shown before sending');
  await dialog.getByRole('button', { name: 'Send ticket' }).click();
  await dialog.locator('.error-summary:not([hidden])').waitFor();
  await axe(page, 'widget-dialog-errors');
  await shot(page, 'widget-dialog-errors');

  await dialog.getByLabel('Subject').fill('Bed board shows yesterday\'s admissions');
  await dialog.getByLabel('Category').selectOption('clinical-workflow');
  await dialog.getByLabel(/^Urgency/).selectOption('function-affected');
  await dialog.getByLabel(/^Impact/).selectOption('multiple');
  await dialog.getByLabel('Description').fill('The ward 4 bed board did not refresh after midnight.');
  await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': new Blob([bytes], { type: 'image/png' }) })]);
  }, PNG);
  await dialog.getByLabel('Description').focus();
  await page.keyboard.press('Control+V');
  await dialog.locator('.file-list li').first().waitFor();
  await axe(page, 'widget-dialog-filled');
  await dialog.getByRole('button', { name: 'Send ticket' }).click();
  // (the dialog's name is now its "Thank you" heading)
  const link = page.getByRole('dialog').getByRole('link', { name: /Follow SD-\d+/ });
  await link.waitFor();
  const id = Number((await link.getAttribute('href')).match(/\/tickets\/(\d+)$/)[1]);
  await axe(page, 'widget-dialog-done');
  await shot(page, 'widget-dialog-done');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  await clean(page, 'widget page');

  // A page with its own strict CSP: the widget still loads and opens.
  const strict = await pageAs(browser, 'alice');
  await strict.goto(`${SITE}csp/page.html`);
  await strict.getByRole('button', { name: 'Report a problem' }).click();
  await strict.getByRole('dialog').waitFor();
  await clean(strict, 'widget under CSP');
  await axe(strict, 'widget-csp-page');
  console.log(`TICKET ${id}`);
});
