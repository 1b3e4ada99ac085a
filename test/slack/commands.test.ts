/**
 * `/provision` subcommands, typed in any channel: each is acknowledged at once
 * (Slack gives up after 3 s) and answered with an ephemeral message only the
 * person who typed it sees: where a tenant is, its audit trail in plain words,
 * the jobs that need attention, and help for anything else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { auditOf, dealFor, waitForRecord, waitForStatus } from '../support/harness.ts';
import { blockErrors, type FakeEphemeral } from '../support/slack-fake.ts';
import { allTexts } from './blocks/fixtures.ts';
import { AE, JANE_IN_SLACK, CHANNEL, JANE, startSlackApp, type SlackTestApp, stopSlackApp } from '../support/slack-app.ts';
import { slashCommandBody } from '../support/slack-signing.ts';
import { said, sender, until } from '../support/slack-story.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const SALES = 'C0SALES';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database', summary: 'Database for ${intake.companyName} created' }),
  sandbox('dns', { latencyMs: 10, resource: '${tenant.dnsName}', summary: 'DNS record ${tenant.dnsName} created' }),
  sandbox('billing', { latencyMs: 10, resource: 'stripe customer' }, { needs: ['database'] }),
);

const FAILING = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database' }),
  sandbox('billing', { failPermanently: true, resource: 'stripe customer' }, { needs: ['database'] }),
);

/** Types `/provision <text>` in #sales; returns the HTTP answer and the ephemeral reply it led to. */
async function slash(s: SlackTestApp, text: string): Promise<{ status: number; body: string; ms: number; reply: FakeEphemeral }> {
  const before = s.fake.ephemerals(SALES).length;
  const res = await sender(s)(
    slashCommandBody({ command: '/provision', text, userId: AE.id, userName: AE.name, channelId: SALES, triggerId: s.fake.issueTrigger() }),
  );
  const reply = await until(`the answer to "/provision ${text.slice(0, 60)}"`, () => s.fake.ephemerals(SALES)[before]);
  return { ...res, reply };
}

/** Every command is acknowledged with an empty 200, well inside Slack's 3 s. */
function expectAckedFast(res: { status: number; body: string; ms: number }): void {
  expect(res.status).toBe(200);
  expect(res.body).toBe('');
  expect(res.ms).toBeLessThan(3000);
}

describe('/provision subcommands', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  it('status and audit answer privately, in plain words', async () => {
    s = await startSlackApp({ pipeline: PIPELINE });
    const { job } = await s.app.service.provision(dealFor({ companyName: 'Initech' }), JANE_IN_SLACK);
    const live = await waitForStatus(s.app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    await auditOf(s.app, live);
    const slug = job.tenant.slug;

    const status = await slash(s, `status ${slug}`);
    expectAckedFast(status);
    expect(status.reply).toMatchObject({ user: AE.id, channel: SALES, via: 'chat.postEphemeral' });
    expect(status.reply.text).toBe(`Initech (${slug}): Live`);
    const statusText = said(status.reply);
    expect(statusText).toContain('3/3 steps');
    for (const step of ['database', 'dns', 'billing']) expect(statusText).toContain(`*${step}*`);
    expect(statusText).toContain(`/provision audit ${slug}`);

    const audit = await slash(s, `audit ${slug}`);
    expectAckedFast(audit);
    expect(audit.reply).toMatchObject({ user: AE.id, channel: SALES });
    expect(audit.reply.text).toBe(`Audit trail for Initech (${slug})`);
    const auditText = said(audit.reply);
    expect(auditText).toContain(`${JANE} requested a starter tenant for Initech (slug ${slug})`);
    expect(auditText).toContain('Database for Initech created');
    expect(auditText).toContain(`DNS record ${live.tenant.dnsName} created`);
    expect(auditText).toContain(`Tenant ${slug} is live at ${live.tenant.tenantUrl}`);
    // Routine "started" lines are left out unless asked for.
    expect(auditText).not.toContain('Step database started');
    const verbose = await slash(s, `audit ${slug} --verbose`);
    expectAckedFast(verbose);
    expect(said(verbose.reply)).toContain('Step database started');

    // Only the person who asked saw anything: nothing was posted in a channel.
    expect(s.fake.messages(SALES)).toEqual([]);
    expect(s.fake.ephemerals().every((e) => e.user === AE.id)).toBe(true);
  });

  it('list shows the jobs that need attention; help and unknown subcommands show how to use it', async () => {
    s = await startSlackApp({ pipeline: FAILING });
    const empty = await slash(s, 'list');
    expectAckedFast(empty);
    expect(empty.reply.text).toBe('No jobs need attention');

    const { job } = await s.app.service.provision(dealFor({ companyName: 'Globex' }), REQUESTER);
    await waitForStatus(s.app, job.jobId, ['failed']);
    await waitForRecord(s.app, job.jobId);

    const list = await slash(s, 'list');
    expectAckedFast(list);
    expect(list.reply.text).toBe('1 job');
    expect(said(list.reply)).toContain(`*Globex* · starter plan · \`${job.tenant.slug}\``);
    expect(said(list.reply)).toContain('Failed: needs a person');

    const help = await slash(s, 'help');
    expectAckedFast(help);
    expect(help.reply.text).toBe('How to use /provision');
    for (const sub of ['status &lt;slug&gt;', 'audit &lt;slug&gt;', 'list', 'stats', 'help']) expect(said(help.reply)).toContain(`/provision ${sub}`);

    const unknown = await slash(s, 'frobnicate acme');
    expectAckedFast(unknown);
    expect(unknown.reply.text).toBe('How to use /provision');
    expect(unknown.reply.blocks).toEqual(help.reply.blocks);

    // Subcommands are not case sensitive.
    const shouted = await slash(s, 'HELP');
    expect(shouted.reply.text).toBe('How to use /provision');
    // None of this opened a modal or posted in #onboarding beyond the failed job's own message.
    expect(s.fake.callsTo('views.open')).toEqual([]);
    expect(s.fake.messages(CHANNEL)).toHaveLength(1);
  });

  it('stats answers privately with the KPIs: time to live, handoffs, step failures, approvals and first use', async () => {
    s = await startSlackApp({ pipeline: FAILING });
    const { job } = await s.app.service.provision(dealFor({ companyName: 'Globex' }), REQUESTER);
    await waitForStatus(s.app, job.jobId, ['failed']);
    await s.app.service.override(job.jobId, person('sam.approver', 'approver'), 'billing', 'created by hand in Stripe');
    await waitForStatus(s.app, job.jobId, ['live']);
    await expect.poll(async () => (await s?.app.kpis.report(REQUESTER))?.timeToLive.live, { timeout: 10_000 }).toBe(1);

    const stats = await slash(s, 'stats');
    expectAckedFast(stats);
    expect(stats.reply).toMatchObject({ user: AE.id, channel: SALES, via: 'chat.postEphemeral' });
    expect(stats.reply.text).toMatch(/^Signed-to-live KPIs: signed → live \d.* \(p90 .*\); needed a person 100%$/);
    const text = allTexts(stats.reply.blocks).join('\n');
    expect(text).toContain('*Signed-to-live KPIs* over 1 job');
    expect(text).toContain('*Needed a person*\n100%\n_1 of 1 job retried, overridden, rolled back or cancelled_');
    expect(text).toContain('*Step failure rate*\n50%\n_1 of 2 step runs failed; most often sandbox (50%)_');
    expect(text).toContain('Signed → live median by plan: starter ');
    expect(text).toMatch(/<http:\/\/127\.0\.0\.1:\d+\/admin\/kpis\|KPIs in the control room>/);
    expect(blockErrors(stats.reply.blocks, 50, '/blocks')).toEqual([]);
    expect(s.fake.messages(SALES)).toEqual([]);
  });

  it('status of a tenant that does not exist says nothing was found; a missing slug is asked for', async () => {
    s = await startSlackApp({ pipeline: PIPELINE });
    const nosuch = await slash(s, 'status nosuch');
    expectAckedFast(nosuch);
    expect(nosuch.reply.user).toBe(AE.id);
    expect(nosuch.reply.text).toBe('No job found for "nosuch" (give a tenant slug, a company name or a job id).');
    // What was typed is shown as typed: no mention, no link, nobody pinged.
    const odd = await slash(s, 'status <!channel>');
    expectAckedFast(odd);
    expect(said(odd.reply)).toContain('No job found for "&lt;!channel&gt;"');
    expect(said(odd.reply)).not.toContain('<!channel>');

    const auditMissing = await slash(s, 'audit nosuch');
    expectAckedFast(auditMissing);
    expect(auditMissing.reply.text).toContain('No job found for "nosuch"');

    const which = await slash(s, 'status');
    expectAckedFast(which);
    expect(which.reply.text).toContain('Which tenant?');
    expect(which.reply.text).toContain('/provision status acme');
  });

  it('status with 10 KB of text still gets a visible answer, cut to fit Slack', async () => {
    s = await startSlackApp({ pipeline: PIPELINE });
    const typed = `${'x'.repeat(5000)} ${'y'.repeat(5000)}`;
    const huge = await slash(s, `status ${typed}`);
    expectAckedFast(huge);
    expect(huge.reply).toMatchObject({ user: AE.id, via: 'chat.postEphemeral' });
    expect(huge.reply.text).toMatch(/^No job found for "x+…" \(give a tenant slug, a company name or a job id\)\.$/);
    expect(said(huge.reply)).toContain('No job found for');
    // Valid for Slack: the fake applies Slack's Block Kit checks, and every text is within a section's 3,000 characters.
    expect(blockErrors(huge.reply.blocks, 50, '/blocks')).toEqual([]);
    for (const text of allTexts(huge.reply.blocks)) expect(text.length).toBeLessThanOrEqual(3000);
    expect(said(huge.reply).length).toBeLessThan(2000);
  });
});
