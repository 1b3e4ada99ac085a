/**
 * A billing event for a tenant the provisioner does not know: reported once in
 * #onboarding with the payload's business facts (company, plan, subscription
 * state — never a contact or a secret), or, where configured for its source,
 * provisioned through the same service as every other door.
 */
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_BUNNY_SIGNING_TOKEN, LOCAL_STRIPE_WEBHOOK_SECRET } from '../../src/config.ts';
import { waitForStatus } from '../support/harness.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { CHANNEL, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { said, until } from '../support/slack-story.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 5, resource: '${tenant.databaseName}' }));

const globexChange = JSON.stringify({
  type: 'TenantProvisioningChange',
  payload: {
    tenant: { code: 'globex', account: { name: 'Globex Inc', contacts: [{ email: 'hank@globex.example' }] } },
    change: { subscriptions: [{ id: 'bs-1', state: 'trial', plan: { code: 'growth' }, updatedAt: '2026-12-01T09:00:00Z' }], features: [] },
  },
});

async function postBunny(s: SlackTestApp, body: string): Promise<number> {
  const url = s.eventsUrl.replace('/slack/events', '/webhooks/bunny');
  const signature = createHmac('sha1', LOCAL_BUNNY_SIGNING_TOKEN).update(body).digest('hex');
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-bunny-signature': signature } });
  await response.arrayBuffer();
  return response.status;
}

async function postStripe(s: SlackTestApp, payload: string): Promise<number> {
  const url = s.eventsUrl.replace('/slack/events', '/webhooks/stripe');
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: LOCAL_STRIPE_WEBHOOK_SECRET });
  const response = await fetch(url, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', 'stripe-signature': header } });
  await response.arrayBuffer();
  return response.status;
}

const unknownSubscription = JSON.stringify({
  id: 'evt_unknown_customer_1',
  object: 'event',
  created: Math.floor(Date.now() / 1000),
  type: 'customer.subscription.created',
  data: {
    object: {
      id: 'sub_x',
      customer: 'cus_nobody',
      status: 'active',
      metadata: {},
      items: { data: [{ quantity: 1, price: { id: 'price_starter_monthly' } }] },
    },
  },
});

describe('billing events for tenants nobody asked for', () => {
  let s: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(s);
    s = undefined;
  });

  it('reports them in #onboarding with the business facts, once per event, never the contact', async () => {
    s = await startSlackApp({ pipeline: PIPELINE });
    const started = s;
    expect(await Promise.all([postBunny(started, globexChange), postBunny(started, globexChange)])).toEqual([200, 200]);
    expect(await postStripe(started, unknownSubscription)).toBe(200);

    const bunny = await until('the Bunny report', () => started.fake.messages(CHANNEL).find((m) => said(m).includes('globex')));
    expect(said(bunny)).toContain('Bunny sent TenantProvisioningChange for globex, a tenant the provisioner does not know');
    expect(said(bunny)).toContain('Globex Inc');
    expect(said(bunny)).toContain('growth');
    expect(said(bunny)).toContain('trialing');
    expect(said(bunny)).toContain('BILLING_PROVISION_UNKNOWN_TENANTS');
    const stripe = await until('the Stripe report', () => started.fake.messages(CHANNEL).find((m) => said(m).includes('cus_nobody')));
    expect(said(stripe)).toContain('starter');

    const everything = started.fake.messages(CHANNEL).map(said).join('\n');
    expect(everything).not.toContain('hank@globex.example');
    expect(everything).not.toContain(LOCAL_BUNNY_SIGNING_TOKEN);
    expect(started.fake.messages(CHANNEL).filter((m) => said(m).includes('globex'))).toHaveLength(1);
  });

  it('provisions them from Bunny when configured for Bunny, and still reports Stripe', async () => {
    s = await startSlackApp({ pipeline: PIPELINE, env: { BILLING_PROVISION_UNKNOWN_TENANTS: 'bunny' } });
    const started = s;
    expect(await postBunny(started, globexChange)).toBe(200);
    expect(await postStripe(started, unknownSubscription)).toBe(200);

    const job = await until('the provisioning job', async () => (await started.app.store.findJobs({ search: 'globex', limit: 5 }))[0]);
    expect(job.definition.intake).toMatchObject({
      companyName: 'Globex Inc',
      slug: 'globex',
      plan: 'growth',
      adminEmail: 'hank@globex.example',
      crmOpportunityId: 'bunny-globex',
    });
    // A growth deal of value 0 needs no approval: it goes live.
    await waitForStatus(started.app, job.definition.jobId, ['live']);
    await until('the Stripe report', () => started.fake.messages(CHANNEL).find((m) => said(m).includes('cus_nobody')));
  });
});
