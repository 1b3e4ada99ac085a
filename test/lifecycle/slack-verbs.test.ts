/**
 * The other lifecycle verbs from Slack, on the emulators: `/provision upgrade`
 * with the plan chosen in the modal, and `/provision reactivate` after a
 * billing source suspended the tenant.
 */
import type { ViewStateValue } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/policy.ts';
import { LIFECYCLE_BLOCKS, LIFECYCLE_CALLBACK } from '../../src/slack/blocks/index.ts';
import { dealFor, waitForRecord, waitForStatus } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { AE, APPROVER, CHANNEL, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { interactionBody, slashCommandBody, viewSubmissionPayload } from '../support/slack-signing.ts';
import { openedModal, sender, until } from '../support/slack-story.ts';

const PIPELINE = `version: 1
steps:
  - id: database
    type: tenant_database
    config:
      tenantId: \${tenant.tenantId}
      database: \${tenant.databaseName}
      isolation: \${tenant.isolation}
  - id: feature_flags
    type: feature_flags
    needs: [database]
    config:
      tenantId: \${tenant.tenantId}
      database: \${tenant.databaseName}
      isolation: \${tenant.isolation}
      flags: \${tenant.features}
  - id: billing
    type: billing
    needs: [feature_flags]
    config:
      tenantId: \${tenant.tenantId}
      customerName: \${intake.companyName}
      customerEmail: \${intake.adminEmail}
      metadata: \${tenant.billingMetadata}
      priceRef: \${plan.billing.priceRef}
      trialDays: \${plan.billing.trialDays}
      contractStartDate: \${intake.contractStartDate}
      meters: \${plan.billing.meters}
`;

const STRIPE: Identity = { door: 'api', id: 'stripe', name: 'Stripe', roles: new Set() };

/** Types `/provision <text>` as `user`, then submits the modal it opens (the `index`th) with a reason and maybe a plan. */
async function askInSlack(
  t: SlackTestApp,
  user: { id: string; name: string },
  text: string,
  index: number,
  values: { reason: string; plan?: string },
) {
  const answered = t.fake.ephemerals(CHANNEL).filter((e) => e.user === user.id).length;
  const slash = slashCommandBody({
    command: '/provision',
    text,
    userId: user.id,
    userName: user.name,
    channelId: CHANNEL,
    triggerId: t.fake.issueTrigger(),
  });
  expect((await sender(t)(slash)).status).toBe(200);
  const modal = await openedModal(t, index);
  expect(modal.callbackId).toBe(LIFECYCLE_CALLBACK);
  const state: Record<string, Record<string, ViewStateValue | string>> = {
    [LIFECYCLE_BLOCKS.reason.blockId]: { [LIFECYCLE_BLOCKS.reason.actionId]: values.reason },
  };
  if (values.plan) {
    const option = { text: { type: 'plain_text' as const, text: values.plan }, value: values.plan };
    state[LIFECYCLE_BLOCKS.plan.blockId] = { [LIFECYCLE_BLOCKS.plan.actionId]: { type: 'static_select', selected_option: option } };
  }
  const payload = viewSubmissionPayload({
    userId: user.id,
    userName: user.name,
    callbackId: LIFECYCLE_CALLBACK,
    privateMetadata: modal.privateMetadata,
    values: state,
  });
  expect((await sender(t)(interactionBody(payload))).status).toBe(200);
  const answer = await until(`the answer to ${text}`, () => t.fake.ephemerals(CHANNEL).filter((e) => e.user === user.id)[answered]);
  const jobId = /job (\S+)\./.exec(answer.text ?? '')?.[1];
  if (!jobId) throw new Error(`no job in the answer: ${answer.text}`);
  return jobId;
}

describe('lifecycle verbs from Slack', () => {
  it('an AE upgrades a tenant with the plan chosen in the modal; an approver reactivates one billing suspended', async () => {
    let s: SlackTestApp | undefined;
    try {
      s = await startSlackApp({ pipeline: PIPELINE, emulators: true });
      const t = s;
      const { job } = await t.app.service.provision(dealFor({ companyName: 'Kramerica' }), REQUESTER);
      await waitForStatus(t.app, job.jobId, ['live']);
      await waitForRecord(t.app, job.jobId);
      const slug = job.tenant.slug;

      const upgrade = await askInSlack(t, AE, `upgrade ${slug}`, 0, { reason: 'signed the growth order form', plan: 'growth' });
      await waitForStatus(t.app, upgrade, ['live']);
      expect(t.app.emulators?.stripe.liveSubscriptionsFor(`tnt_${slug}`).map((sub) => sub.priceIds)).toEqual([['price_growth_annual']]);
      expect(await t.app.service.lifecycle.tenant(slug)).toMatchObject({ status: 'live', planId: 'growth' });

      const suspended = await t.app.service.lifecycle.suspend(slug, STRIPE, { reason: 'invoice unpaid', requestKey: 'evt_slack' });
      await waitForStatus(t.app, suspended.job.jobId, ['live']);
      const reactivate = await askInSlack(t, APPROVER, `reactivate ${slug}`, 1, { reason: 'paid by wire' });
      await waitForStatus(t.app, reactivate, ['live']);
      expect((await t.app.service.lifecycle.tenant(slug)).status).toBe('live');
    } finally {
      await stopSlackApp(s);
    }
  }, 90_000);
});
