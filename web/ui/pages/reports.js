// The SLA report: per tier and priority and per category, as tables and a
// simple bar chart of the share met in target (the tables carry the same
// numbers, so the chart is a picture of them, not the only place they are).
import { h, replace } from '../dom.js';
import { t, term, formatNumber } from '../i18n.js';
import { request, query, ApiError } from '../api.js';
import { field, errorSummary, showProblem, problemText, notice, busy } from '../components.js';

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k);
  return el;
}

const day = (d) => d.toISOString().slice(0, 10);
const pct = (x) => (x === null || x === undefined ? '–' : formatNumber(x, { style: 'percent', maximumFractionDigits: 0 }));
const num = (x) => (x === null || x === undefined ? '–' : formatNumber(x, { maximumFractionDigits: 0 }));

function table(caption, firstCols, rows) {
  const cols = ['report.tickets', 'report.responded', 'report.resolved', 'report.breached', 'report.median_response', 'report.median_resolution'];
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, firstCols.map((c) => h('th', { scope: 'col' }, t(c.label))), cols.map((c) => h('th', { scope: 'col' }, t(c))))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        firstCols.map((c, i) => h(i === 0 ? 'th' : 'td', i === 0 ? { scope: 'row' } : {}, c.value(r))),
        h('td', {}, num(r.tickets)),
        h('td', {}, `${num(r.responded_in_target)} (${pct(r.responded_in_target_share)})`),
        h('td', {}, `${num(r.resolved_or_escalated_in_target)} (${pct(r.resolved_or_escalated_in_target_share)})`),
        h('td', {}, num(r.breached)),
        h('td', {}, num(r.median_response_minutes)),
        h('td', {}, num(r.median_resolution_minutes)))))));
}

// Horizontal bars: share resolved or escalated in target, one per row.
function chart(rows, labelOf) {
  const barH = 22, gap = 10, labelW = 170, width = 560, barW = width - labelW - 60;
  const height = rows.length * (barH + gap) + 24;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title' },
    s('title', { id: 'chart-title' }, t('report.chart_title')));
  rows.forEach((r, i) => {
    const y = i * (barH + gap) + 4;
    const share = r.resolved_or_escalated_in_target_share || 0;
    svg.append(
      s('text', { x: labelW - 8, y: y + barH * 0.7, 'text-anchor': 'end', class: 'chart-label' }, labelOf(r)),
      s('rect', { x: labelW, y, width: barW, height: barH, class: 'chart-track' }),
      s('rect', { x: labelW, y, width: Math.max(0, share * barW), height: barH, class: 'chart-bar' }),
      s('text', { x: labelW + barW + 6, y: y + barH * 0.7, class: 'chart-value' }, pct(r.resolved_or_escalated_in_target_share)));
  });
  return h('figure', { class: 'chart-figure' }, svg, h('figcaption', {}, t('report.chart_caption')));
}

export async function render(ctx) {
  const qs = new URLSearchParams(location.search);
  const now = new Date();
  const from = /^\d{4}-\d{2}-\d{2}$/.test(qs.get('from')) ? qs.get('from') : day(new Date(now.getTime() - 30 * 86400000));
  const to = /^\d{4}-\d{2}-\d{2}$/.test(qs.get('to')) ? qs.get('to') : day(now);
  const summary = errorSummary();
  const fFrom = field({ name: 'from', label: t('report.from'), control: h('input', { type: 'date', value: from }) });
  const fTo = field({ name: 'to', label: t('report.to'), hint: t('report.to_hint'), control: h('input', { type: 'date', value: to }) });
  const form = h('form', { class: 'filters', novalidate: true }, summary, fFrom, fTo,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('report.show'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(`/reports${query({ from: fFrom.control.value, to: fTo.control.value })}`);
  });
  // The day "to" counts whole: the period ends at the next midnight (UTC).
  const params = { from: `${from}T00:00:00Z`, to: `${day(new Date(Date.parse(`${to}T00:00:00Z`) + 86400000))}T00:00:00Z` };
  const page = h('section', {}, h('h1', {}, t('reports.title')), form);
  let rep;
  try {
    rep = (await request('GET', `/reports/sla${query(params)}`)).data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) { page.append(notice('error', problemText(err))); return page; }
    throw err;
  }
  const csv = h('button', { type: 'button', class: 'secondary' }, t('report.csv'));
  csv.addEventListener('click', async () => {
    busy(csv, true);
    try {
      const res = await request('GET', `/reports/sla${query(params)}`, { accept: 'text/csv' });
      const url = URL.createObjectURL(new Blob([res.data], { type: 'text/csv' }));
      const a = h('a', { href: url, download: `sla-${from}-${to}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      csv.after(notice('error', problemText(err)));
    } finally { busy(csv, false); }
  });
  const tierLabel = (r) => t('report.tier_priority', { tier: r.tier, priority: term('priority', r.priority) });
  const rows = rep.by_tier_priority || [];
  if (!rows.length) {
    page.append(h('p', { role: 'status' }, t('report.empty')));
    return page;
  }
  page.append(
    h('h2', {}, t('report.by_tier')),
    chart(rows, tierLabel),
    table(t('report.by_tier'), [{ label: 'report.tier', value: (r) => term('tier', r.tier) }, { label: 'report.priority', value: (r) => term('priority', r.priority) }], rows),
    h('h2', {}, t('report.by_category')),
    table(t('report.by_category'), [{ label: 'report.category', value: (r) => term('category', r.category) }], rep.by_category || []),
    h('p', {}, csv));
  return page;
}
