// An agent works a ticket from the queue: takes it, replies internally and
// publicly, escalates with a note, resolves; the reporter sees only the
// public conversation and reopens with a reason. Then the SLA report, and
// known issues created and resolved from their page. Prints "TICKET <id>"
// and "KI <id>" for the pytest side.
import { scenario, pageAs, open, ready, shot, clean, axe, assert, text, api, unique } from './lib.mjs';

await scenario('agent escalates and resolves', async (browser) => {
  const subject = unique('Infusion pump library out of date on ward 4');
  const tk = await api('alice', 'POST', '/tickets', {
    subject, description: 'Pump shows drug library v12; pharmacy says v14.', category: 'device',
    urgency: 'job-stopped', impact: 'multiple' });
  const agent = await pageAs(browser, 'tom');

  await open(agent, `/queue?q=${subject.split(' ').pop()}`);   // its unique word: the queue may be long
  const card = agent.locator('.ticket-card', { hasText: subject });
  await card.waitFor();
  assert(/Urgent/.test(await card.innerText()), 'priority word on the card');
  await axe(agent, 'queue');
  await shot(agent, 'queue');

  await card.getByRole('link').click();
  await ready(agent);
  assert((await text(agent, 'h1')).includes(subject), 'ticket heading');
  await axe(agent, 'ticket-agent-new');
  await shot(agent, 'ticket-agent');

  await agent.getByRole('button', { name: 'Take this ticket' }).click();
  await agent.locator('.notice-success', { hasText: 'You took' }).waitFor();
  assert((await text(agent, '.badges')).includes('Open'), 'status open after taking');

  // An escalation without a note: the error is tied to the field.
  await agent.getByRole('button', { name: 'Escalate', exact: true }).click();
  await agent.locator('.error-summary:not([hidden])').waitFor();
  await axe(agent, 'escalate-error');

  await agent.getByLabel('Your reply').fill('Checked the pump: library v12. Needs pharmacy push.');
  await agent.getByLabel(/Internal note/).check();
  await agent.getByRole('button', { name: 'Send', exact: true }).click();
  await agent.locator('.notice-success', { hasText: 'reply was sent' }).waitFor();
  assert((await agent.locator('.comment.internal').count()) === 1, 'internal note shown marked');
  assert((await text(agent, '.comment.internal .badge-internal')) === 'Internal note', 'marked in words');

  await agent.getByLabel('Your reply').fill('We are updating the pump library now.');
  await agent.getByRole('button', { name: 'Send', exact: true }).click();
  // (the first reply's notice is still shown: wait for this reply itself,
  // or the page re-rendered by it would empty the fields filled next)
  await agent.locator('.comment:not(.internal)', { hasText: 'We are updating the pump library now.' }).waitFor();
  await agent.locator('.notice-success', { hasText: 'reply was sent' }).waitFor();

  await agent.getByLabel('Escalation note').fill('Library push fails from our side; needs the vendor team.');
  await agent.getByRole('button', { name: 'Escalate', exact: true }).click();
  await agent.locator('.notice-success', { hasText: 'escalated' }).waitFor();
  assert((await text(agent, '.facts')).includes('Tier 3'), 'now at tier 3');

  await agent.getByLabel('What was done (public)').fill('Pump library updated to v14.');
  await agent.getByRole('button', { name: 'Resolve the ticket' }).click();
  await agent.locator('.notice-success', { hasText: 'was resolved' }).waitFor();
  assert((await text(agent, '.badges')).includes('Resolved'), 'resolved badge');
  await agent.locator('details.history summary').click();
  await axe(agent, 'ticket-agent-resolved');
  await shot(agent, 'ticket-agent-resolved');

  // The reporter: public replies only, then reopen with a reason.
  const rep = await pageAs(browser, 'alice');
  await open(rep, `/tickets/${tk.id}`);
  const conv = await text(rep, '[aria-labelledby="conv-title"]');
  assert(conv.includes('updating the pump library'), 'public reply visible');
  assert(conv.includes('Pump library updated to v14.'), 'resolution note visible');
  assert(!conv.includes('Needs pharmacy push'), 'internal note NOT visible to the reporter');
  assert((await rep.locator('.agent').count()) === 0, 'no agent actions for a reporter');
  await rep.getByRole('button', { name: 'Reopen the ticket' }).click();
  await rep.locator('.error-summary:not([hidden])').waitFor();
  await rep.getByLabel('Why does it need another look?').fill('Ward 4 pump 2 still shows v12.');
  await rep.getByRole('button', { name: 'Reopen the ticket' }).click();
  await rep.locator('.notice-success', { hasText: 'reopened' }).waitFor();
  assert((await text(rep, '.badges')).includes('Open'), 'open again');
  await axe(rep, 'ticket-reporter-reopened');

  // The SLA report, table and chart.
  await open(agent, '/reports');
  await agent.locator('table').first().waitFor();
  assert((await agent.locator('svg.chart rect.chart-bar').count()) >= 1, 'a bar per row');
  assert((await text(agent, 'table')).includes('Tier 2'), 'tier 2 row');
  await axe(agent, 'reports');
  await shot(agent, 'reports');

  // Known issues: create (with a validation error first), then resolve.
  await open(agent, '/known-issues');
  await agent.getByText('Add a known issue').click();
  await agent.getByRole('button', { name: 'Add the known issue' }).click();
  await agent.locator('.error-summary:not([hidden])').waitFor();
  await axe(agent, 'known-issue-create-error');
  const title = unique('Pump library push fails');
  await agent.getByLabel('Title').fill(title);
  await agent.getByLabel('Workaround', { exact: true }).fill('Update pumps by USB from the biomed room.');
  await agent.getByLabel('Device', { exact: true }).check();
  await agent.getByRole('button', { name: 'Add the known issue' }).click();
  await agent.locator('.notice-success', { hasText: 'was added' }).waitFor();
  const kiCard = agent.locator('.ki-card', { hasText: title });
  await kiCard.waitFor();
  const kiId = Number((await kiCard.getAttribute('id')).replace('ki-', ''));
  await axe(agent, 'known-issues-agent');
  await shot(agent, 'known-issues');

  // Link the (reopened) ticket to it from the ticket page, then resolve the issue.
  await open(agent, `/tickets/${tk.id}`);
  await agent.getByLabel('Find a known issue').fill(title);
  await agent.getByRole('button', { name: 'Find' }).click();
  await agent.getByLabel(title).check();
  await agent.getByRole('button', { name: 'Link', exact: true }).click();
  await agent.locator('.notice-success', { hasText: 'linked' }).waitFor();
  assert((await text(agent, '.known-link')).includes(title), 'linked known issue shown');

  await open(agent, '/known-issues');
  await agent.locator('.ki-card', { hasText: title }).getByRole('button', { name: /Mark resolved/ }).click();
  await agent.locator('.notice-success', { hasText: 'was resolved' }).waitFor();
  await clean(agent, 'agent');
  await clean(rep, 'reporter');
  console.log(`TICKET ${tk.id}`);
  console.log(`KI ${kiId}`);
});
