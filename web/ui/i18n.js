// The message catalogue: every visible string comes from ui/i18n/<lang>.json
// (the page's lang, picked by the server from Accept-Language). Keys are
// flat ("nav.mine"); a value is a string with {name} placeholders, or an
// object of plural forms (Intl.PluralRules categories: one, few, many, other).
// Dates are shown in the user's own locale and time zone.

let messages = {};
let lang = 'en';
let plurals = new Intl.PluralRules('en');

// want: a language tag ("en", "ru-RU"); falls back to English when there
// is no catalogue for it (the widget runs on pages in any language).
export async function loadCatalogue(base, want = document.documentElement.lang || 'en') {
  const tries = [String(want).toLowerCase().split('-')[0], 'en'];
  for (const code of tries) {
    if (!/^[a-z]{2,3}$/.test(code)) continue;
    const res = await fetch(`${base}/ui/i18n/${code}.json`, { credentials: 'same-origin' });
    if (!res.ok) continue;
    messages = await res.json();
    lang = code;
    plurals = new Intl.PluralRules(lang);
    return lang;
  }
  throw new Error(`no message catalogue for ${want}`);
}

export function t(key, params = {}) {
  let m = messages[key];
  if (m === undefined) return key;
  if (typeof m === 'object') m = m[plurals.select(Number(params.n))] ?? m.other;
  return m.replace(/\{(\w+)\}/g, (all, name) => (name in params ? String(params[name]) : all));
}

export function has(key) {
  return key in messages;
}

// A vocabulary value ("category", "clinical-workflow") as the catalogue
// words it; a value the sysadmin added without a translation shows as is.
export function term(kind, value) {
  if (value === null || value === undefined) return t('common.none');
  const key = `${kind}.${value}`;
  return has(key) ? t(key) : String(value);
}

const dateFmt = () => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayFmt = () => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatDate(iso) {
  if (!iso) return t('common.none');
  return dateFmt().format(new Date(iso));
}

export function formatDay(iso) {
  return dayFmt().format(new Date(iso));
}

// "in 3 hours" / "2 hours ago", in the page's language.
export function relative(iso, now = Date.now()) {
  const diff = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

export function formatNumber(n, opts) {
  return new Intl.NumberFormat(lang, opts).format(n);
}

export function formatBytes(n) {
  if (n < 1024) return t('common.bytes', { n });
  if (n < 1024 * 1024) return t('common.kib', { n: formatNumber(n / 1024, { maximumFractionDigits: 0 }) });
  return t('common.mib', { n: formatNumber(n / 1048576, { maximumFractionDigits: 1 }) });
}
