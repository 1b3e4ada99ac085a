/**
 * Billing keeps a tenant in sync: a Stripe event about a live tenant becomes
 * one sync_entitlements job (however often it is delivered) that switches the
 * paid flags on, sets the limits and records the billing state in the
 * tenant's configuration record. A failed payment suspends the tenant once
 * the grace period passes unpaid; paying reactivates it.
 */
import { MongoClient } from 'mongodb';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_STRIPE_WEBHOOK_SECRET } from '../../src/config.ts';
import { tenantConfigRecords } from '../../src/steps/feature-flags/record.ts';
import { auditOf, dealFor, startTestApp, stopTestApp, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 5, resource: '${tenant.databaseName}' }));

let counter = 0;
function stripeEvent(type: string, object: Record<string, unknown>, created = Math.floor(Date.now() / 1000)): string {
  counter += 1;
  return JSON.stringify({ id: `evt_sync_${Date.now()}_${counter}`, object: 'event', created, type, data: { object } });
}

const subscription = (slug: string, status: string, price: string) => ({
  id: `sub_${slug}`,
  object: 'subscription',
  customer: `cus_${slug}`,
  status,
  metadata: { tenant_id: `tnt_${slug}` },
  items: { data: [{ quantity: 1, price: { id: price } }] },
});

const invoice = (slug: string) => ({
  object: 'invoice',
  customer: `cus_${slug}`,
  parent: { subscription_details: { subscription: `sub_${slug}`, metadata: { tenant_id: `tnt_${slug}` } } },
});

describe('billing events applied to tenants', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  async function serving(env: Record<string, string> = {}) {
    app = await startTestApp({ pipeline: PIPELINE, serveWeb: true, env });
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = await app.web.listen(0);
    const { job } = await app.service.provision(dealFor({ companyName: 'Initech', plan: 'starter' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    await waitForRecord(app, job.jobId);
    return { url, slug: job.tenant.slug, app };
  }

  async function deliver(url: string, payload: string): Promise<number> {
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: LOCAL_STRIPE_WEBHOOK_SECRET });
    const response = await fetch(`${url}/webhooks/stripe`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** The follow-up's outcome for an event, once it has one. */
  async function outcomeOf(app: TestApp, payload: string, pattern: RegExp): Promise<string> {
    const key = `stripe:${String(JSON.parse(payload).id)}`;
    await expect.poll(async () => (await app.billingStore.billingEvent(key))?.handled?.outcome ?? '', { timeout: 15_000 }).toMatch(pattern);
    return (await app.billingStore.billingEvent(key))?.handled?.outcome ?? '';
  }

  const jobIdIn = (outcome: string, words: string) => {
    const id = new RegExp(`${words} \\(?(?:job )?([^ ;)]+)`).exec(outcome)?.[1];
    if (!id) throw new Error(`no job in "${outcome}"`);
    return id;
  };

  async function configRecord(app: TestApp, slug: string) {
    const mongo = new MongoClient(app.config.mongoUri);
    try {
      const where = { tenantId: `tnt_${slug}`, database: app.config.tenant.sharedDatabaseName, isolation: 'shared' as const };
      return await tenantConfigRecords(mongo, where).findOne({ _id: `tnt_${slug}` });
    } finally {
      await mongo.close();
    }
  }

  it('applies an upgrade bought in Stripe: growth flags on, growth limits, billing state recorded; 10 deliveries make one job', async () => {
    const { url, slug, app } = await serving();
    const upgrade = stripeEvent('customer.subscription.updated', subscription(slug, 'active', 'price_growth_annual'));
    expect(await Promise.all(Array.from({ length: 10 }, () => deliver(url, upgrade)))).toEqual(Array(10).fill(200));

    const jobId = jobIdIn(await outcomeOf(app, upgrade, /^entitlements job/), 'entitlements job');
    const done = await waitForStatus(app, jobId, ['live', 'failed']);
    expect(done.status).toBe('live');
    const jobs = await app.store.findJobs({ search: slug, limit: 50 });
    expect(jobs.filter((j) => j.definition.kind === 'sync_entitlements')).toHaveLength(1);

    const record = await configRecord(app, slug);
    expect(record?.features).toMatchObject({ sso: true, audit_log: true, advanced_analytics: true, custom_roles: false });
    expect(Reflect.get(record ?? {}, 'limits')).toEqual({ users: 100, storage_gb: 500, api_calls_per_day: 100_000 });
    expect(Reflect.get(record ?? {}, 'billing')).toMatchObject({ source: 'stripe', state: 'active', planId: 'growth' });

    const { text } = await auditOf(app, done);
    expect(text).toContain(`Stripe customer.subscription.updated ${String(JSON.parse(upgrade).id)} asked to apply billing entitlements to Initech`);
  });

  it('suspends a tenant whose payment failed once the grace period passes unpaid, and reactivates it when paid', async () => {
    // About a second of grace.
    const { url, slug, app } = await serving({ PAYMENT_GRACE_HOURS: '0.0003' });
    const t = Math.floor(Date.now() / 1000);
    const failed = stripeEvent('invoice.payment_failed', invoice(slug), t);
    expect(await deliver(url, failed)).toBe(200);
    const suspension = await outcomeOf(app, failed, /grace period started/);
    await waitForStatus(app, jobIdIn(suspension, 'entitlements job'), ['live']);
    await expect.poll(async () => (await app.service.lifecycle.tenant(slug)).status, { timeout: 15_000 }).toBe('suspended');

    const paid = stripeEvent('invoice.paid', invoice(slug), t + 5);
    expect(await deliver(url, paid)).toBe(200);
    await outcomeOf(app, paid, /reactivation asked/);
    await expect.poll(async () => (await app.service.lifecycle.tenant(slug)).status, { timeout: 15_000 }).toBe('live');
  });

  it('does not suspend a tenant that paid within the grace period', async () => {
    const { url, slug, app } = await serving({ PAYMENT_GRACE_HOURS: '0.0006' });
    const t = Math.floor(Date.now() / 1000);
    const failed = stripeEvent('invoice.payment_failed', invoice(slug), t);
    expect(await deliver(url, failed)).toBe(200);
    await outcomeOf(app, failed, /grace period started/);
    expect(await deliver(url, stripeEvent('invoice.paid', invoice(slug), t + 1))).toBe(200);
    // Past the grace period: the tenant is still live, and stays so.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');
  });
});
