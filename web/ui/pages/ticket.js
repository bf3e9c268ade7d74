// One ticket: its facts, the conversation, attachments, and what the
// viewer may do next (reply, reopen with a reason; agents: take, change,
// escalate, link to a known issue, resolve).
import { h, replace, safeHref } from '../dom.js';
import { t, term, formatBytes } from '../i18n.js';
import { request, post, get, upload, query, attachmentUrl, ApiError } from '../api.js';
import { field, select, errorSummary, showProblem, problemText, notice, announce, badge,
         slaBadge, time, busy, filePicker, choiceGroup } from '../components.js';

function facts(ctx, tk) {
  const row = (key, value) => h('div', {}, h('dt', {}, t(key)), h('dd', {}, value));
  const dev = tk.device ? Object.entries(tk.device).filter(([, v]) => v)
    .map(([k, v]) => `${t(`new.device_${k}`)}: ${v}`).join(', ') : '';
  const url = tk.page_url ? safeHref(tk.page_url) : null;
  return h('dl', { class: 'facts' },
    row('ticket.category', term('category', tk.category)),
    tk.urgency ? row('ticket.urgency', term('urgency', tk.urgency)) : null,
    tk.impact ? row('ticket.impact', term('impact', tk.impact)) : null,
    row('ticket.priority', term('priority', tk.priority)),
    row('ticket.tier', term('tier', tk.tier)),
    row('ticket.reporter', tk.reporter ? (tk.reporter.name || tk.reporter.user) : ''),
    row('ticket.assignee', tk.assignee ? (tk.assignee.name || tk.assignee.user || tk.assignee) : t('ticket.unassigned')),
    row('ticket.created', time(tk.created_at)),
    row('ticket.updated', time(tk.updated_at)),
    ['resolved', 'closed'].includes(tk.status) ? null : row('ticket.response_due', tk.first_response_at ? t('ticket.responded', { when: '' }) : time(tk.response_due_at)),
    ['resolved', 'closed'].includes(tk.status) ? row('ticket.resolved', time(tk.resolved_at)) : row('ticket.resolution_due', time(tk.resolution_due_at)),
    tk.environment ? row('ticket.environment', term('environment', tk.environment)) : null,
    tk.service ? row('ticket.service', tk.service) : null,
    tk.encounter_id ? row('ticket.encounter', tk.encounter_id) : null,
    dev ? row('ticket.device', dev) : null,
    tk.page_url ? row('ticket.page_url', url ? h('a', { href: url, rel: 'noreferrer noopener', target: '_blank' }, tk.page_url) : tk.page_url) : null,
    tk.cc && tk.cc.length ? row('ticket.cc', tk.cc.join(', ')) : null);
}

function conversation(tk) {
  const items = (tk.comments || []).map((c) => h('li', { class: `comment${c.internal ? ' internal' : ''}` },
    h('p', { class: 'comment-head' },
      h('strong', {}, c.author ? (c.author.name || c.author.user || c.author) : ''), ' ',
      time(c.created_at), ' ',
      c.internal ? h('span', { class: 'badge badge-internal' }, t('ticket.internal_note')) : null),
    h('div', { class: 'text' }, c.body)));
  return h('section', { 'aria-labelledby': 'conv-title' },
    h('h2', { id: 'conv-title' }, t('ticket.conversation')),
    h('div', { class: 'description' }, h('h3', {}, t('ticket.description')), h('div', { class: 'text' }, tk.description)),
    items.length ? h('ol', { class: 'comments' }, items) : h('p', {}, t('ticket.no_comments')));
}

function attachments(ctx, tk) {
  const list = (tk.attachments || []).map((a) => {
    const url = attachmentUrl(tk.id, a.id);
    const isImage = /^image\/(png|jpeg|gif|webp)$/.test(a.media_type);
    return h('li', {},
      isImage ? h('img', { src: url, alt: t('ticket.screenshot_alt', { name: a.filename }), class: 'thumb', loading: 'lazy' }) : null,
      h('a', { href: url, download: a.filename }, a.filename), ' ',
      h('span', { class: 'file-size' }, `(${term('media', a.media_type)}, ${formatBytes(a.size)})`));
  });
  return h('section', { 'aria-labelledby': 'att-title' },
    h('h2', { id: 'att-title' }, t('ticket.attachments')),
    list.length ? h('ul', { class: 'attachments' }, list) : h('p', {}, t('ticket.no_attachments')));
}

export async function render(ctx, [idText]) {
  const id = Number(idText);
  const res = await request('GET', `/tickets/${id}`);
  const tk = res.data;
  const etag = res.etag;
  ctx.setTitle(`${tk.key}: ${tk.subject}`);
  const me = ctx.me;
  const isReporter = tk.reporter && tk.reporter.user === me.user;
  const agent = ctx.isAgent;
  const done = ['resolved', 'closed'].includes(tk.status);
  const reload = (flash) => ctx.navigate(`/tickets/${id}`, flash);
  const out = h('article', { class: 'ticket' });

  out.append(
    h('h1', {}, h('span', { class: 'key' }, tk.key), ' ', tk.subject),
    h('p', { class: 'badges' }, badge('status', tk.status), ' ', badge('priority', tk.priority), ' ', slaBadge(tk)));

  if (tk.known_issue) {
    out.append(h('section', { class: 'known-link', 'aria-labelledby': 'ki-title' },
      h('h2', { id: 'ki-title' }, t('ticket.known_issue')),
      h('p', {}, h('strong', {}, tk.known_issue.title), ' ', badge('kistatus', tk.known_issue.status)),
      h('p', { class: 'label' }, t('known.workaround')),
      h('div', { class: 'text' }, tk.known_issue.workaround || t('known.no_workaround'))));
  }

  out.append(h('section', { 'aria-labelledby': 'facts-title' }, h('h2', { id: 'facts-title' }, t('ticket.details')), facts(ctx, tk)));
  out.append(conversation(tk));
  out.append(attachments(ctx, tk));

  // Reply: the reporter and agents (agents may make it internal); a
  // colleague who may read the ticket does not take part in it.
  if (tk.status !== 'closed' && (isReporter || agent)) {
    const summary = errorSummary();
    const bodyField = field({ name: 'body', label: t('ticket.reply'), hint: agent ? t('ticket.reply_hint_agent') : t('ticket.reply_hint'),
                              control: h('textarea', { rows: 4, maxlength: ctx.meta.limits.max_description }), required: true });
    const internal = agent ? h('input', { type: 'checkbox', id: 'reply-internal' }) : null;
    const files = filePicker({ limits: ctx.meta.limits, label: t('ticket.add_files'), hint: t('ticket.add_files_hint') });
    ctx.cleanup = () => files.detach();
    const send = h('button', { type: 'submit' }, t('ticket.send_reply'));
    const form = h('form', { novalidate: true, class: 'reply-form' }, summary, bodyField,
      internal ? h('div', { class: 'choice' }, internal, h('label', { for: 'reply-internal' }, t('ticket.internal_label'))) : null,
      files, h('div', { class: 'actions' }, send));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = bodyField.control.value;
      if (!body.trim() && !files.files.length) {
        showProblem(summary, { body: bodyField }, { status: 422, errors: [{ field: 'body', message: t('ticket.err_reply') }] });
        return;
      }
      busy(send, true);
      try {
        if (body.trim()) await post(`/tickets/${id}/comments`, { body, internal: internal ? internal.checked : false });
        const failed = [];
        for (const f of files.files) {
          try { await upload(id, f); } catch (err) { failed.push(`${f.name}: ${problemText(err)}`); }
        }
        files.clearFiles();
        reload(failed.length ? { kind: 'error', text: t('new.upload_failed', { files: failed.join('; ') }) }
                             : { kind: 'success', text: t('ticket.reply_sent') });
      } catch (err) {
        if (err instanceof ApiError) showProblem(summary, { body: bodyField }, err); else throw err;
      } finally {
        busy(send, false);
      }
    });
    out.append(h('section', { 'aria-labelledby': 'reply-title' }, h('h2', { id: 'reply-title' }, t('ticket.reply_title')), form));
  }

  // Reopen with a reason (reporter or agent, from resolved/closed).
  if (done && (isReporter || agent)) {
    out.append(reasonForm({ id: 'reopen', title: t('ticket.reopen_title'), label: t('ticket.reopen_reason'),
      hint: t('ticket.reopen_hint'), button: t('ticket.reopen'), name: 'reason', ctx,
      send: (reason) => post(`/tickets/${id}/reopen`, { reason }),
      done: () => reload(t('ticket.reopened')) }));
  }

  if (agent) out.append(agentActions(ctx, tk, etag, reload));
  if (agent && tk.events) out.append(history(tk));
  return out;
}

// A form with one required text (reopen reason, escalation note).
function reasonForm({ id, title, label, hint, button, name, send, done, ctx, level = 'h2' }) {
  const summary = errorSummary();
  const f = field({ name, label, hint, required: true, control: h('textarea', { rows: 3, maxlength: ctx.meta.limits.max_description }) });
  const btn = h('button', { type: 'submit' }, button);
  const form = h('form', { novalidate: true }, summary, f, h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = f.control.value;
    if (!v.trim()) { showProblem(summary, { [name]: f }, { status: 422, errors: [{ field: name, message: t('form.err_required') }] }); return; }
    busy(btn, true);
    try { await send(v); done(); } catch (err) {
      if (err instanceof ApiError) showProblem(summary, { [name]: f }, err); else throw err;
    } finally { busy(btn, false); }
  });
  return h('section', { 'aria-labelledby': `${id}-title` }, h(level, { id: `${id}-title` }, title), form);
}

function agentActions(ctx, tk, etag, reload) {
  const { meta, me } = ctx;
  const id = tk.id;
  const box = h('section', { class: 'agent', 'aria-labelledby': 'agent-title' }, h('h2', { id: 'agent-title' }, t('agent.title')));
  const patch = async (changes, okText, button) => {
    busy(button, true);
    try {
      await request('PATCH', `/tickets/${id}`, { body: changes, etag });
      reload(okText);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) reload({ kind: 'error', text: t('error.changed') });
      else if (err instanceof ApiError) { box.querySelector('.agent-error')?.remove(); box.insertBefore(h('div', { class: 'agent-error' }, notice('error', problemText(err), ' ', (err.errors || []).map((x) => `${x.field}: ${x.message}`).join('; '))), box.children[1]); announce(problemText(err)); }
      else throw err;
    } finally { busy(button, false); }
  };

  // Take it: acknowledge (open) and assign to me.
  const assignedToMe = tk.assignee && (tk.assignee.user || tk.assignee) === me.user;
  if (!['resolved', 'closed'].includes(tk.status) && (tk.status === 'new' || !assignedToMe)) {
    const take = h('button', { type: 'button' }, t('agent.take'));
    take.addEventListener('click', () => patch(tk.status === 'new' ? { status: 'open', assignee: me.user } : { assignee: me.user },
                                               t('agent.taken', { key: tk.key }), take));
    box.append(h('p', {}, take, ' ', h('span', { class: 'hint' }, t('agent.take_hint'))));
  }

  // Change fields.
  const next = meta.statuses.filter((s) => s === tk.status || allowed(tk.status, s));
  const fStatus = field({ name: 'status', label: t('ticket.status'), control: select({ value: tk.status, options: next.map((s) => ({ value: s, label: term('status', s) })) }) });
  const fPrio = field({ name: 'priority', label: t('ticket.priority'), control: select({ value: tk.priority, options: meta.priorities.map((p) => ({ value: p, label: term('priority', p) })) }) });
  const fCat = field({ name: 'category', label: t('ticket.category'), control: select({ value: tk.category, options: meta.categories.map((c) => ({ value: c, label: term('category', c) })) }) });
  const fTier = field({ name: 'tier', label: t('ticket.tier'), control: select({ value: tk.tier, options: meta.tiers.map((n) => ({ value: n, label: term('tier', n) })) }) });
  const cur = tk.assignee ? (tk.assignee.user || tk.assignee) : '';
  const fAssignee = field({ name: 'assignee', label: t('ticket.assignee'), hint: t('agent.assignee_hint'), control: h('input', { type: 'text', value: cur, autocomplete: 'off' }) });
  const save = h('button', { type: 'submit' }, t('agent.save'));
  const changeForm = h('form', { novalidate: true, class: 'grid-form' }, fStatus, fPrio, fCat, fTier, fAssignee, h('div', { class: 'actions' }, save));
  changeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const ch = {};
    if (fStatus.control.value !== tk.status) ch.status = fStatus.control.value;
    if (fPrio.control.value !== tk.priority) ch.priority = fPrio.control.value;
    if (fCat.control.value !== tk.category) ch.category = fCat.control.value;
    if (Number(fTier.control.value) !== tk.tier) ch.tier = Number(fTier.control.value);
    const a = fAssignee.control.value.trim();
    if (a !== cur) ch.assignee = a || null;
    if (!Object.keys(ch).length) { announce(t('agent.nothing_changed')); return; }
    patch(ch, t('agent.saved'), save);
  });
  box.append(h('h3', {}, t('agent.change')), changeForm);

  // Resolve, with an optional public note.
  if (allowed(tk.status, 'resolved')) {
    const note = field({ name: 'resolution', label: t('agent.resolution_note'), hint: t('agent.resolution_hint'), control: h('textarea', { rows: 3 }) });
    const btn = h('button', { type: 'submit' }, t('agent.resolve'));
    const form = h('form', { novalidate: true }, note, h('div', { class: 'actions' }, btn));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      busy(btn, true);
      try {
        if (note.control.value.trim()) await post(`/tickets/${id}/comments`, { body: note.control.value, internal: false });
        const fresh = await request('GET', `/tickets/${id}`);
        await request('PATCH', `/tickets/${id}`, { body: { status: 'resolved' }, etag: fresh.etag });
        reload(t('agent.resolved', { key: tk.key }));
      } catch (err) {
        if (err instanceof ApiError) { busy(btn, false); form.prepend(notice('error', problemText(err))); announce(problemText(err)); } else throw err;
      } finally { busy(btn, false); }
    });
    box.append(h('h3', {}, t('agent.resolve_title')), form);
  }

  // Escalate to the next tier.
  if (tk.tier < Math.max(...meta.tiers) && !['resolved', 'closed'].includes(tk.status)) {
    const sec = reasonForm({ id: 'escalate', title: t('agent.escalate_title', { tier: term('tier', tk.tier + 1) }), label: t('agent.escalate_note'),
      hint: t('agent.escalate_hint'), button: t('agent.escalate'), name: 'note', ctx,
      send: (noteText) => post(`/tickets/${id}/escalate`, { note: noteText }),
      done: () => reload(t('agent.escalated', { key: tk.key, tier: term('tier', tk.tier + 1) })), level: 'h3' });
    box.append(sec);
  }

  // Link to a known issue (or unlink).
  box.append(linkKnownIssue(ctx, tk, reload));
  return box;
}

function allowed(from, to) {
  const ok = { new: ['open', 'pending', 'resolved'], open: ['pending', 'resolved'], pending: ['open', 'resolved'], resolved: ['closed'], closed: [] };
  return (ok[from] || []).includes(to);
}

function linkKnownIssue(ctx, tk, reload) {
  const sec = h('section', { 'aria-labelledby': 'link-title' }, h('h3', { id: 'link-title' }, t('agent.link_title')));
  if (tk.known_issue) {
    const unlink = h('button', { type: 'button', class: 'secondary' }, t('agent.unlink', { title: tk.known_issue.title }));
    unlink.addEventListener('click', async () => {
      busy(unlink, true);
      try { await post(`/tickets/${tk.id}/link`, { known_issue_id: null }); reload(t('agent.unlinked')); } catch (err) {
        sec.append(notice('error', problemText(err)));
      } finally { busy(unlink, false); }
    });
    sec.append(h('p', {}, unlink));
    return sec;
  }
  const search = h('input', { type: 'search', autocomplete: 'off', value: tk.subject });
  const fSearch = field({ name: 'ki-search', label: t('agent.link_search'), control: search });
  const findBtn = h('button', { type: 'button', class: 'secondary' }, t('agent.link_find'));
  const results = h('div', { class: 'link-results' });
  const find = async () => {
    busy(findBtn, true);
    try {
      const page = await get(`/known-issues${query({ status: 'active', q: search.value.trim(), limit: 10 })}`);
      if (!page.items.length) { replace(results, h('p', { role: 'status' }, t('agent.link_none'))); return; }
      const group = choiceGroup({ name: 'known_issue_id', legend: t('agent.link_pick'),
        options: page.items.map((ki) => ({ value: String(ki.id), label: ki.title, hint: ki.workaround || '' })) });
      const link = h('button', { type: 'button' }, t('agent.link'));
      link.addEventListener('click', async () => {
        const v = group.value();
        if (!v) { group.setError(t('agent.link_choose')); group.control.focus(); return; }
        busy(link, true);
        try { await post(`/tickets/${tk.id}/link`, { known_issue_id: Number(v) }); reload(t('agent.linked')); } catch (err) {
          group.setError(problemText(err));
        } finally { busy(link, false); }
      });
      replace(results, group, h('div', { class: 'actions' }, link));
      announce(t('agent.link_found', { n: page.items.length }));
    } catch (err) {
      replace(results, notice('error', problemText(err)));
    } finally { busy(findBtn, false); }
  };
  findBtn.addEventListener('click', find);
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); find(); } });
  sec.append(fSearch, h('div', { class: 'actions' }, findBtn), results);
  return sec;
}

function history(tk) {
  const rows = tk.events.map((ev) => h('tr', {},
    h('td', {}, time(ev.at)), h('td', {}, ev.actor || ''), h('td', {}, term('event', ev.kind)),
    h('td', {}, ev.field ? `${ev.field}: ${ev.old ?? '–'} → ${ev.new ?? '–'}` : (ev.new ?? '')),
    h('td', {}, ev.note || '')));
  return h('details', { class: 'history' }, h('summary', {}, t('ticket.history')),
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('ticket.history') },
      h('table', {}, h('caption', { class: 'visually-hidden' }, t('ticket.history')),
        h('thead', {}, h('tr', {}, ['history.when', 'history.who', 'history.what', 'history.change', 'history.note'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, rows))));
}
