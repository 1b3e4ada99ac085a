/**
 * The buttons in #onboarding, clicked the way Slack sends clicks: a failed
 * step is retried or overridden from its thread reply, a live tenant is
 * rolled back from its progress message, a waiting step gets its input from
 * a modal, and an approval request is rejected with a reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { whenWords } from '../../src/domain/wording.ts';
import { ACTIONS, CALLBACKS, DIALOG_BLOCKS } from '../../src/slack/blocks/index.ts';
import type { TestApp } from '../support/harness.ts';
import { auditOf, dealFor, stepStates, waitForStatus } from '../support/harness.ts';
import type { ChannelMessage, FakeMessage } from '../support/slack-fake.ts';
import type { Identity } from '../../src/domain/policy.ts';
import {
  AE,
  JANE_IN_SLACK,
  APPROVER,
  billingFails,
  CHANNEL,
  JANE,
  SAM,
  startSlackApp,
  type SlackTestApp,
  stopSlackApp,
} from '../support/slack-app.ts';
import { clickButton, hasButton, openedModal, said, submitModal, until } from '../support/slack-story.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const FAILING_FOR_GOOD = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database' }),
  sandbox('billing', { latencyMs: 10, failPermanently: true, resource: 'stripe customer' }, { needs: ['database'] }),
  sandbox('invoice', { latencyMs: 10, resource: 'first invoice' }, { needs: ['billing'] }),
);

const SIMPLE = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database' }),
  sandbox('dns', { latencyMs: 10, resource: '${tenant.dnsName}' }),
  sandbox('billing', { latencyMs: 10, resource: 'stripe customer' }, { needs: ['database'] }),
);

const WAITING_FOR_INPUT = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database' }),
  sandbox('sso', { latencyMs: 10, waitForInput: true, resource: 'sso-${intake.slug}' }, { needs: ['database'] }),
  sandbox('welcome_email', { resource: 'email' }, { needs: ['sso'], criticality: 'notification' }),
);

/** The job's progress message in #onboarding (there must be exactly one). */
async function progressOf(s: SlackTestApp, slug: string): Promise<ChannelMessage> {
  return until(`the progress message of ${slug}`, () => {
    const mine = s.fake.messages(CHANNEL).filter((m) => said(m).includes(slug));
    return mine.length === 1 ? mine[0] : undefined;
  });
}

/** A reply in the job's thread that matches. */
async function replyIn(s: SlackTestApp, slug: string, what: string, match: (reply: FakeMessage) => boolean): Promise<FakeMessage> {
  const parent = await progressOf(s, slug);
  return until(what, () =>
    s.fake
      .messages(CHANNEL)
      .find((m) => m.ts === parent.ts)
      ?.replies.find(match),
  );
}

describe('the buttons in #onboarding', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  const provision = async (app: TestApp, overrides: Record<string, unknown> = {}, who: Identity = REQUESTER) =>
    (await app.service.provision(dealFor(overrides), who)).job;

  it('a blocking step fails → Retry and Override in the thread → the approver retries → live, and the audit names them', async () => {
    s = await startSlackApp({ pipeline: billingFails(1) });
    const t = s;
    const job = await provision(t.app);
    expect((await waitForStatus(t.app, job.jobId, ['failed', 'live'])).status).toBe('failed');

    const parent = await progressOf(t, job.tenant.slug);
    const failure = await replyIn(t, job.tenant.slug, 'the failure reply', (r) => hasButton(r, ACTIONS.retry));
    expect(hasButton(failure, ACTIONS.override)).toBe(true);
    expect(failure.text).toContain('Step billing failed');
    expect(said(failure)).toContain('rejected by the sandbox (run 1)');

    const click = await clickButton(t, APPROVER, failure, ACTIONS.retry, parent.ts);
    expect(click.status).toBe(200);
    expect(click.ms).toBeLessThan(3000);
    // The click is acknowledged first and acted on after, so wait for the job to move.
    const live = await waitForStatus(t.app, job.jobId, ['live']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', billing: 'succeeded', welcome_email: 'succeeded' });

    await replyIn(t, job.tenant.slug, 'the retried line', (r) => (r.text ?? '').includes(`${SAM} retried step billing`));
    // The old Retry button is stale now: a second click changes nothing and says so.
    await clickButton(t, APPROVER, failure, ACTIONS.retry, parent.ts);
    const stale = await until('the stale-click answer', () => t.fake.ephemerals(CHANNEL).find((e) => e.user === APPROVER.id));
    expect(stale.text).toContain('Nothing changed');
    await replyIn(t, job.tenant.slug, 'the completion reply', (r) => (r.text ?? '').includes('is live'));
    const { text } = await auditOf(t.app, live);
    expect(text).toContain(`${SAM} retried step billing`);
  });

  it('a step fails for good → Override opens a modal → no reason is refused in the modal → with a reason the step is overridden and the job goes live', async () => {
    s = await startSlackApp({ pipeline: FAILING_FOR_GOOD });
    const t = s;
    const job = await provision(t.app);
    await waitForStatus(t.app, job.jobId, ['failed']);
    const parent = await progressOf(t, job.tenant.slug);
    const failure = await replyIn(t, job.tenant.slug, 'the failure reply', (r) => hasButton(r, ACTIONS.override));

    // Someone who is not an approver gets no modal, and is told why.
    expect((await clickButton(t, AE, failure, ACTIONS.override, parent.ts)).status).toBe(200);
    const refusal = await until('the refusal', () => t.fake.ephemerals(CHANNEL).find((e) => e.user === AE.id));
    expect(refusal.text).toContain('Only approvers can override');
    expect(t.fake.callsTo('views.open')).toEqual([]);

    const click = await clickButton(t, APPROVER, failure, ACTIONS.override, parent.ts);
    expect(click.status).toBe(200);
    const modal = await openedModal(t, 0);
    expect(modal.callbackId).toBe(CALLBACKS.override);
    expect(JSON.stringify(modal.view)).toContain('billing');

    // No reason (blank counts as none): the modal stays open with the error on the reason field.
    const noReason: Record<string, Record<string, string>>[] = [{}, { [DIALOG_BLOCKS.reason.blockId]: { [DIALOG_BLOCKS.reason.actionId]: '   ' } }];
    for (const blank of noReason) {
      const refused = await submitModal(t, APPROVER, modal, blank);
      expect(refused.status).toBe(200);
      expect(JSON.parse(refused.body)).toEqual({
        response_action: 'errors',
        errors: { [DIALOG_BLOCKS.reason.blockId]: expect.stringContaining('reason') },
      });
    }
    expect((await t.app.engine.view(job.jobId))?.status).toBe('failed');

    const reason = 'created the customer by hand in Stripe';
    const accepted = await submitModal(t, APPROVER, modal, { [DIALOG_BLOCKS.reason.blockId]: { [DIALOG_BLOCKS.reason.actionId]: reason } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toBe('');
    const live = await waitForStatus(t.app, job.jobId, ['live']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', billing: 'overridden', invoice: 'succeeded' });
    expect(live.steps.find((step) => step.id === 'billing')?.override).toEqual({ by: SAM, reason });

    await replyIn(t, job.tenant.slug, 'the override line', (r) => (r.text ?? '').includes(`${SAM} overrode billing`));
    const { lines } = await auditOf(t.app, live);
    expect(lines.filter((l) => l.includes(`${SAM} overrode billing in Slack: "${reason}"`))).toHaveLength(1);
    // The progress message ends showing the override.
    await until('the progress message showing the override', () => {
      const m = t.fake.messages(CHANNEL).find((x) => x.ts === parent.ts);
      return m && said(m).includes('3/3') && said(m).includes('overridden by') ? m : undefined;
    });
  });

  it('Roll back on a live job’s progress message asks for a reason, then undoes the tenant; the thread follows the rollback', async () => {
    s = await startSlackApp({ pipeline: SIMPLE });
    const t = s;
    const job = await provision(t.app);
    const live = await waitForStatus(t.app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    // The progress message shows the job live, with its Roll back button.
    const parent = await until('the live progress message', async () => {
      const m = await progressOf(t, job.tenant.slug);
      return said(m).includes('3/3') && hasButton(m, ACTIONS.rollback) ? m : undefined;
    });

    const click = await clickButton(t, APPROVER, parent, ACTIONS.rollback);
    expect(click.status).toBe(200);
    const modal = await openedModal(t, 0);
    expect(modal.callbackId).toBe(CALLBACKS.rollback);

    const reason = 'deal fell through';
    const submitted = await submitModal(t, APPROVER, modal, { [DIALOG_BLOCKS.reason.blockId]: { [DIALOG_BLOCKS.reason.actionId]: reason } });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');
    const rolledBack = await waitForStatus(t.app, job.jobId, ['rolled_back', 'rollback_failed']);
    expect(rolledBack.status).toBe('rolled_back');
    expect(stepStates(rolledBack)).toEqual({ database: 'compensated', dns: 'compensated', billing: 'compensated' });
    // Everything the job created is gone again.
    expect((await t.app.ledger.inventory()).resources).toEqual({});

    await replyIn(t, job.tenant.slug, 'the rollback-started reply', (r) =>
      (r.text ?? '').includes(`${SAM} started a rollback in Slack: "${reason}"`),
    );
    const finished = await replyIn(t, job.tenant.slug, 'the rollback-finished reply', (r) => said(r).includes('Rollback finished'));
    expect(said(finished)).toContain('3 steps undone');
    // The progress message ends rolled back, and offers no more Roll back.
    await until('the rolled-back progress message', () => {
      const m = t.fake.messages(CHANNEL).find((x) => x.ts === parent.ts);
      return m && said(m).includes('Rolled back') && !hasButton(m, ACTIONS.rollback) ? m : undefined;
    });
    const { text } = await auditOf(t.app, rolledBack);
    expect(text).toContain(`${SAM} started a rollback in Slack: "${reason}"`);
  });

  it('a step waiting for input → Provide input opens a modal → a bad URL is refused in the modal → a metadata URL lets it carry on', async () => {
    s = await startSlackApp({ pipeline: WAITING_FOR_INPUT });
    const t = s;
    // The AE requested it, so the AE may give the input (no approver needed).
    const job = await provision(t.app, {}, JANE_IN_SLACK);
    await waitForStatus(t.app, job.jobId, ['awaiting_input']);
    const parent = await progressOf(t, job.tenant.slug);
    const ask = await replyIn(t, job.tenant.slug, 'the input request', (r) => hasButton(r, ACTIONS.provideInput));
    expect(said(ask)).toContain('Provide input');
    expect(said(ask)).toContain('IdP metadata URL');

    const click = await clickButton(t, AE, ask, ACTIONS.provideInput, parent.ts);
    expect(click.status).toBe(200);
    const modal = await openedModal(t, 0);
    expect(modal.callbackId).toBe(CALLBACKS.input);

    const urlValues = (url: string) => ({
      [DIALOG_BLOCKS.metadataUrl.blockId]: { [DIALOG_BLOCKS.metadataUrl.actionId]: { type: 'url_text_input', value: url } },
    });
    const bad = await submitModal(t, AE, modal, urlValues('ftp://idp.acme.example/metadata'));
    expect(JSON.parse(bad.body)).toEqual({
      response_action: 'errors',
      errors: { [DIALOG_BLOCKS.metadataUrl.blockId]: expect.stringContaining('http') },
    });
    const empty = await submitModal(t, AE, modal, {});
    expect(JSON.parse(empty.body)).toMatchObject({ response_action: 'errors' });
    expect((await t.app.engine.view(job.jobId))?.status).toBe('awaiting_input');

    const good = await submitModal(t, AE, modal, urlValues('https://idp.acme.example/saml/metadata'));
    expect(good.status).toBe(200);
    expect(good.body).toBe('');
    const live = await waitForStatus(t.app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', sso: 'succeeded', welcome_email: 'succeeded' });

    await replyIn(t, job.tenant.slug, 'the input-provided line', (r) =>
      (r.text ?? '').includes(`${JANE} provided the input step sso was waiting for`),
    );
    const { text } = await auditOf(t.app, live);
    expect(text).toContain(`${JANE} provided the input step sso was waiting for`);
    // The input itself is kept for the step, not shown in the channel.
    expect(JSON.stringify(t.fake.messages(CHANNEL))).not.toContain('idp.acme.example/saml');
  });

  it('approve → live → a second Approve is refused, saying who approved the gate and when', async () => {
    s = await startSlackApp({ pipeline: SIMPLE });
    const t = s;
    const job = await provision(t.app, { plan: 'growth', contractValue: 150_000 }, JANE_IN_SLACK);
    await waitForStatus(t.app, job.jobId, ['awaiting_approval']);
    const parent = await progressOf(t, job.tenant.slug);
    const request = await replyIn(t, job.tenant.slug, 'the approval request', (r) => hasButton(r, ACTIONS.approve));

    await clickButton(t, APPROVER, request, ACTIONS.approve, parent.ts);
    const live = await waitForStatus(t.app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    const gate = live.steps.find((step) => step.id === 'approval_gate');
    if (gate?.finishedAt === undefined) throw new Error('the approval gate did not finish');

    await clickButton(t, APPROVER, request, ACTIONS.approve, parent.ts);
    const refused = await until('the answer to the second Approve', () => t.fake.ephemerals(CHANNEL).find((e) => e.user === APPROVER.id));
    expect(refused.text).toBe(`Nothing changed: approval gate was already approved by ${SAM} at ${whenWords(gate.finishedAt)}.`);
    expect(said(refused)).not.toMatch(/approval_gate|\u02CD|succeeded|waiting_approval/);
    const { lines } = await auditOf(t.app, live);
    expect(lines.filter((l) => l.includes(`${SAM} approved approval gate`))).toHaveLength(1);
  });

  it('a big growth deal asks for approval → the approver rejects with a reason → the job is rejected and the thread says so', async () => {
    s = await startSlackApp({ pipeline: SIMPLE });
    const t = s;
    const job = await provision(t.app, { plan: 'growth', contractValue: 150_000 }, JANE_IN_SLACK);
    await waitForStatus(t.app, job.jobId, ['awaiting_approval']);
    const parent = await progressOf(t, job.tenant.slug);
    const request = await replyIn(t, job.tenant.slug, 'the approval request', (r) => hasButton(r, ACTIONS.reject));
    expect(said(request)).toContain(`<@${APPROVER.id}>`);

    const click = await clickButton(t, APPROVER, request, ACTIONS.reject, parent.ts);
    expect(click.status).toBe(200);
    const modal = await openedModal(t, 0);
    expect(modal.callbackId).toBe(CALLBACKS.reject);

    const reason = 'discount not signed off by the deal desk';
    const submitted = await submitModal(t, APPROVER, modal, { [DIALOG_BLOCKS.reason.blockId]: { [DIALOG_BLOCKS.reason.actionId]: reason } });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');
    const rejected = await waitForStatus(t.app, job.jobId, ['rejected', 'live']);
    expect(rejected.status).toBe('rejected');
    // Nothing was provisioned.
    expect((await t.app.ledger.inventory()).creations).toEqual({});

    const line = await replyIn(t, job.tenant.slug, 'the rejection line', (r) => (r.text ?? '').includes('rejected approval gate'));
    expect(line.text).toContain(`${SAM} rejected approval gate in Slack: "${reason}"`);
    await until('the rejected progress message', () => {
      const m = t.fake.messages(CHANNEL).find((x) => x.ts === parent.ts);
      return m && said(m).includes('Rejected') && !hasButton(m, ACTIONS.rollback) ? m : undefined;
    });
    const { text } = await auditOf(t.app, rejected);
    expect(text).toContain(`${SAM} rejected approval gate in Slack: "${reason}"`);
  });
});
