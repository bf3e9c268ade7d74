// Shared pieces of the browser scenarios: Debian's chromium through
// playwright-core, a signed-in context per user (HTTP Basic, as the test
// httpd authenticates through mod_authnz_ldap), axe-core checks, screenshots,
// and a page that fails the scenario on any console error, failed request
// or CSP violation.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const BASE_URL = process.env.SDESK_URL;          // http://127.0.0.1:port/sdesk
export const ARTIFACTS = process.env.SDESK_ARTIFACTS || 'build/browser';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

if (!BASE_URL) {
  console.error('SDESK_URL is not set (run through pytest: tests/integration/test_800_browser.py)');
  process.exit(2);
}
mkdirSync(ARTIFACTS, { recursive: true });

const openPages = [];

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

// A page signed in as user (password "<user>-secret" in the test directory).
// opts: viewport, locale, timezoneId, reducedMotion, permissions.
export async function pageAs(browser, user, opts = {}) {
  const context = await browser.newContext({
    httpCredentials: { username: user, password: `${user}-secret` },
    viewport: opts.viewport || { width: 1280, height: 900 },
    locale: opts.locale || 'en-GB',
    timezoneId: opts.timezoneId || 'Europe/London',
    deviceScaleFactor: opts.deviceScaleFactor || 1,
    permissions: opts.permissions || [],
  });
  const page = await context.newPage();
  page.problems = [];
  openPages.push(page);
  page.on('console', (msg) => {
    // failed loads are judged by the response handler below (with their URL)
    if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text())) page.problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    const f = req.failure();
    // a download or navigation aborted by the test itself is not a failure
    if (f && !/ERR_ABORTED/.test(f.errorText)) page.problems.push(`request failed: ${req.url()} ${f.errorText}`);
  });
  page.on('response', (res) => {
    // a host page's missing favicon is not ours; anything else 4xx/5xx is
    // unexpected unless the scenario provokes it (opts.allowStatus)
    const allowed = (opts.allowStatus || []).includes(res.status()) || /\/favicon\.ico$/.test(res.url());
    if (res.status() >= 400 && !allowed) page.problems.push(`HTTP ${res.status()} ${res.url()}`);
  });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
    // every text the live region (#announcer) held: a later announcement
    // (suggestions arriving, say) may replace one before a test reads it
    window.__announced = [];
    new MutationObserver(() => {
      const el = document.getElementById('announcer');
      const t = el ? el.textContent : '';
      if (t && window.__announced[window.__announced.length - 1] !== t) window.__announced.push(t);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  page.setDefaultTimeout(15000);
  return page;
}

export async function open(page, pathname) {
  await page.goto(BASE_URL + pathname);
  await ready(page);
}

// The page has rendered (a heading is focused or shown, no "Loading").
export async function ready(page) {
  await page.waitForFunction(() => !document.querySelector('main .loading') && document.querySelector('main h1'));
}

// axe-core with the WCAG 2.0/2.1/2.2 A and AA rules; throws with a
// readable list when anything is violated.
export async function axe(page, label) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`) }));
  });
  if (result.length) {
    await shot(page, `axe-fail-${label}`);
    throw new Error(`axe-core: ${result.length} WCAG violation(s) on ${label}:\n`
      + result.map((v) => `- ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n'));
  }
  console.log(`axe ok: ${label}`);
}

export async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
  return file;
}

// Fail on anything the page reported (console errors, CSP, failed requests).
export async function clean(page, label) {
  const csp = await page.evaluate(() => window.__cspViolations || []);
  const all = [...page.problems, ...csp.map((c) => `CSP violation: ${c}`)];
  if (all.length) throw new Error(`${label}: the page reported problems:\n- ${all.join('\n- ')}`);
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

// Run a scenario: prints PASS/FAIL, exit code 0/1, always closes chromium.
export async function scenario(name, fn) {
  const browser = await launch();
  try {
    await fn(browser);
    console.log(`PASS ${name}`);
  } catch (err) {
    console.error(`FAIL ${name}: ${err.stack || err}`);
    for (const p of openPages) {
      if (p.problems.length) console.error(`  reported by ${p.url()}:\n  - ${p.problems.join('\n  - ')}`);
    }
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

// The JSON API as user, for setting up data (Basic auth, like the pages).
export async function api(user, method, pathname, body) {
  const res = await fetch(`${BASE_URL}/api/v1${pathname}`, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${user}:${user}-secret`).toString('base64')}`,
      Accept: 'application/json',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error(`${method} ${pathname} as ${user}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

export const unique = (prefix) => `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

// Wait until the live region announced text matching re.
// The live region announced re (now or earlier on this page).
export async function announced(page, re) {
  await page.waitForFunction((src) => window.__announced.some((t) => new RegExp(src).test(t)), re.source);
}
