// Keyboard only: the skip link, every control reached with Tab shows a
// visible focus indicator, radio groups by arrow keys, a ticket filed with
// Enter, and the focus lands on the new page's heading.
import { scenario, pageAs, open, ready, shot, clean, axe, assert, text, unique } from './lib.mjs';

// Describe the focused element and whether its focus is visible.
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', visible: false };
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
    const label = el.labels && el.labels[0] ? el.labels[0].textContent.trim()
      : (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 60);
    return { tag: el.tagName.toLowerCase(), type: el.type || '', label, visible: outline || cs.boxShadow !== 'none',
             name: el.name || '' };
  });
}

// Tab until the focused element matches pred; every stop must show focus.
async function tabTo(page, pred, what, max = 60, key = 'Tab') {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    assert(f.visible, `focus indicator visible on ${f.tag} "${f.label}"`);
    if (pred(f)) return f;
  }
  throw new Error(`Tab never reached ${what}`);
}

await scenario('keyboard-only filing', async (browser) => {
  const page = await pageAs(browser, 'bob');
  await open(page, '/new');
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('Tab');
  let f = await focused(page);
  assert(f.tag === 'a' && /Skip to main content/.test(f.label) && f.visible, `first Tab: skip link (${JSON.stringify(f)})`);
  await page.keyboard.press('Enter');
  const subject = unique('Keyboard: PACS viewer freezes on scroll');

  await tabTo(page, (x) => x.label.startsWith('Subject'), 'the subject');
  await page.keyboard.type(subject);
  await tabTo(page, (x) => x.tag === 'select' && x.label.startsWith('Category'), 'the category');
  await page.keyboard.press('ArrowDown');          // first real category
  await page.keyboard.press('ArrowDown');
  f = await tabTo(page, (x) => x.type === 'radio' && x.name === 'urgency', 'the urgency radios');
  await page.keyboard.press('ArrowDown');          // moves and selects within the group
  await page.keyboard.press('ArrowDown');          // "Job function affected"
  await tabTo(page, (x) => x.type === 'radio' && x.name === 'impact', 'the impact radios');
  await page.keyboard.press('Space');              // "Single user"
  const prio = await text(page, '#priority-output');
  assert(/Priority: High/.test(prio), `priority computed from keyboard choices: ${prio}`);
  await tabTo(page, (x) => x.label.startsWith('Description'), 'the description');
  await page.keyboard.type('Scrolling a CT series freezes the viewer for 10 s.');
  await tabTo(page, (x) => x.tag === 'button' && x.label === 'Send ticket', 'the send button');
  await shot(page, 'keyboard-before-send');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/tickets\/\d+$/);
  await ready(page);
  f = await focused(page);
  assert(f.tag === 'h1' && f.label.includes(subject), `focus on the new page's heading: ${JSON.stringify(f)}`);
  assert((await text(page, '.facts')).includes('Clinical workflow') || (await text(page, '.facts')).includes('Device'),
         'category chosen by keyboard');

  // The navigation by keyboard: back to My tickets with Enter on the link.
  await tabTo(page, (x) => x.tag === 'a' && x.label === 'My tickets', 'the My tickets link', 10, 'Shift+Tab');
  await page.keyboard.press('Enter');
  await ready(page);
  assert((await text(page, 'h1')) === 'My tickets', 'My tickets by keyboard');
  assert((await text(page, '.cards')).includes(subject), 'the ticket listed');
  await clean(page, 'keyboard');
});
