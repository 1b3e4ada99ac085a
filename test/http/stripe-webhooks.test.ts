/**
 * Stripe tells the provisioner when a subscription changes: POST
 * /webhooks/stripe, signed with the endpoint secret (built here with the SDK's
 * own generateTestHeaderString). The event is recorded once, before the 200;
 * redeliveries, concurrent deliveries and late older events change nothing;
 * a forged, tampered or stale delivery is 400 and records nothing; an event
 * type the provisioner does not follow is 200 and ignored.
 */
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_STRIPE_WEBHOOK_SECRET } from '../../src/config.ts';
import { billingTruth } from '../../src/domain/entitlements.ts';
import { dealFor, startTestApp, stopTestApp, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

type Answer = { status: number; body: Record<string, unknown> };

let counter = 0;
const nowS = () => Math.floor(Date.now() / 1000);

/** A Stripe event as Stripe sends it (only what the provisioner reads, plus the usual envelope). */
function stripeEvent(type: string, object: Record<string, unknown>, opts: { id?: string; created?: number } = {}): string {
  counter += 1;
  return JSON.stringify({
    id: opts.id ?? `evt_test_${Date.now()}_${counter}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: opts.created ?? nowS(),
    livemode: false,
    pending_webhooks: 1,
    type,
    data: { object },
  });
}

function subscription(slug: string, status: string, price = 'price_growth_annual', customer = `cus_${slug}`): Record<string, unknown> {
  return {
    id: `sub_${slug}`,
    object: 'subscription',
    customer,
    status,
    metadata: { tenant_id: `tnt_${slug}`, provisioning_job_id: 'job-1' },
    items: { object: 'list', data: [{ id: `si_${slug}`, object: 'subscription_item', quantity: 1, price: { id: price, lookup_key: null } }] },
  };
}

describe('Stripe webhooks', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  async function serving(): Promise<{ url: string; slug: string; app: TestApp }> {
    app = await startTestApp({ pipeline: pipelineOf(sandbox('database')), serveWeb: true });
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = await app.web.listen(0);
    const { job } = await app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    await waitForRecord(app, job.jobId);
    return { url, slug: job.tenant.slug, app };
  }

  async function deliver(url: string, payload: string, header?: string): Promise<Answer> {
    const signature = header ?? Stripe.webhooks.generateTestHeaderString({ payload, secret: LOCAL_STRIPE_WEBHOOK_SECRET });
    const response = await fetch(`${url}/webhooks/stripe`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? {} : JSON.parse(text);
    return { status: response.status, body: parsed !== null && typeof parsed === 'object' ? Object.fromEntries(Object.entries(parsed)) : {} };
  }

  it('records a subscription change once, and its redelivery changes nothing', async () => {
    const { url, slug, app } = await serving();
    const event = stripeEvent('customer.subscription.updated', subscription(slug, 'active'));

    expect(await deliver(url, event)).toMatchObject({ status: 200, body: { outcome: 'recorded' } });
    expect(await deliver(url, event)).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });

    const events = await app.billingStore.billingEventsOf(slug);
    expect(events).toHaveLength(1);
    expect(billingTruth(events).subscription?.value).toEqual({ id: `sub_${slug}`, state: 'active', planId: 'growth' });
    // The follow-up ran once, for a tenant the provisioner knows: one entitlements job.
    const key = `stripe:${String(JSON.parse(event).id)}`;
    await expect
      .poll(async () => (await app.billingStore.billingEvent(key))?.handled?.outcome ?? '', { timeout: 10_000 })
      .toMatch(/^entitlements job /);
  });

  it('takes 10 concurrent deliveries of one event as one change', async () => {
    const { url, slug, app } = await serving();
    const event = stripeEvent('customer.subscription.created', subscription(slug, 'trialing', 'price_starter_monthly'));
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(url, event)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.filter((a) => a.body['outcome'] === 'recorded')).toHaveLength(1);
    expect(answers.filter((a) => a.body['outcome'] === 'duplicate')).toHaveLength(9);
    expect(await app.billingStore.billingEventsOf(slug)).toHaveLength(1);
  });

  it('never lets an older event arriving late overwrite newer state', async () => {
    const { url, slug, app } = await serving();
    const t = nowS();
    const canceled = stripeEvent('customer.subscription.deleted', subscription(slug, 'canceled'), { created: t });
    const olderUpgrade = stripeEvent('customer.subscription.updated', subscription(slug, 'active', 'price_enterprise_annual'), { created: t - 60 });
    const sameSecondUpdate = stripeEvent('customer.subscription.updated', subscription(slug, 'active'), { created: t });

    for (const event of [canceled, olderUpgrade, sameSecondUpdate]) expect((await deliver(url, event)).status).toBe(200);

    const truth = billingTruth(await app.billingStore.billingEventsOf(slug));
    expect(truth.subscription?.value.state).toBe('canceled');
  });

  it('finds the tenant of an entitlement summary by the customer its subscription named', async () => {
    const { url, slug, app } = await serving();
    expect(
      (await deliver(url, stripeEvent('customer.subscription.created', subscription(slug, 'active', 'price_starter_monthly', 'cus_initech')))).status,
    ).toBe(200);
    const summary = stripeEvent('entitlements.active_entitlement_summary.updated', {
      object: 'entitlements.active_entitlement_summary',
      customer: 'cus_initech',
      livemode: false,
      entitlements: {
        object: 'list',
        data: [
          { id: 'ent_1', object: 'entitlements.active_entitlement', lookup_key: 'sso', feature: 'feat_1' },
          { id: 'ent_2', object: 'entitlements.active_entitlement', lookup_key: 'white-label', feature: 'feat_2' },
        ],
      },
    });
    expect(await deliver(url, summary)).toMatchObject({ status: 200, body: { outcome: 'recorded', unmapped: ['white-label'] } });

    const truth = billingTruth(await app.billingStore.billingEventsOf(slug));
    expect(truth.features?.value).toMatchObject({ sso: true, audit_log: false });
  });

  it('records failed and paid invoices for the tenant of their subscription', async () => {
    const { url, slug, app } = await serving();
    const invoice = {
      object: 'invoice',
      customer: `cus_${slug}`,
      customer_name: 'Initech',
      parent: { type: 'subscription_details', subscription_details: { subscription: `sub_${slug}`, metadata: { tenant_id: `tnt_${slug}` } } },
    };
    const t = nowS();
    expect((await deliver(url, stripeEvent('invoice.paid', invoice, { created: t }))).status).toBe(200);
    expect((await deliver(url, stripeEvent('invoice.payment_failed', invoice, { created: t }))).status).toBe(200);
    // Same second: the failure is the earlier of the two (a payment retried and settled), so paid stands.
    expect(billingTruth(await app.billingStore.billingEventsOf(slug)).payment?.value).toBe('paid');
  });

  it('refuses a forged, tampered, stale or unsigned delivery with 400 and records nothing', async () => {
    const { url, slug, app } = await serving();
    const payload = stripeEvent('customer.subscription.updated', subscription(slug, 'canceled'));
    const forged = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' });
    const stale = Stripe.webhooks.generateTestHeaderString({ payload, secret: LOCAL_STRIPE_WEBHOOK_SECRET, timestamp: nowS() - 301 });
    const signedOriginal = Stripe.webhooks.generateTestHeaderString({ payload, secret: LOCAL_STRIPE_WEBHOOK_SECRET });

    for (const [body, header] of [
      [payload, forged],
      [payload, stale],
      [payload.replace('canceled', 'active'), signedOriginal],
      // Parsed and re-serialised (spaces added): the raw bytes are what Stripe signed.
      [JSON.stringify(JSON.parse(payload), null, 1), signedOriginal],
      [payload, 't=123,v1=abc'],
      [payload, ''],
    ] as const) {
      const answer = await deliver(url, body, header);
      expect(answer.status).toBe(400);
      expect(String(answer.body['detail'])).toMatch(/Stripe-Signature/);
      expect(JSON.stringify(answer.body)).not.toContain('whsec_');
    }
    expect(await app.billingStore.billingEventsOf(slug)).toEqual([]);
  });

  it('answers 200 to an event type it does not follow, and records nothing', async () => {
    const { url, slug, app } = await serving();
    const answer = await deliver(url, stripeEvent('charge.succeeded', { id: 'ch_1', object: 'charge', customer: `cus_${slug}` }));
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(await app.billingStore.billingEventsOf(slug)).toEqual([]);
  });

  it('names the fields of a signed event it cannot read, with 422', async () => {
    const { url } = await serving();
    const answer = await deliver(url, stripeEvent('customer.subscription.updated', { id: 'sub_1', status: 'active' }));
    expect(answer.status).toBe(422);
    expect(answer.body['errors']).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'data.object.customer' })]));
  });

  it('refuses, naming the field, an event id or a company name holding control characters (found by the fuzzer)', async () => {
    const { url, slug, app } = await serving();
    const nul = stripeEvent('customer.subscription.updated', subscription(slug, 'active'), { id: 'evt_a\u0000b' });
    const answer = await deliver(url, nul);
    expect(answer.status).toBe(422);
    expect(answer.body['errors']).toEqual([expect.objectContaining({ field: 'event.id' })]);
    const invoice = { object: 'invoice', customer: `cus_${slug}`, customer_name: 'Initech\u0000', parent: null };
    expect((await deliver(url, stripeEvent('invoice.paid', invoice))).body['errors']).toEqual([
      expect.objectContaining({ field: 'data.object.customer_name' }),
    ]);
    expect(await app.billingStore.billingEventsOf(slug)).toEqual([]);
  });

  it('reports an event for a tenant nobody asked for, once', async () => {
    const { url, app } = await serving();
    const event = stripeEvent('customer.subscription.created', subscription('globex', 'active'));
    expect((await Promise.all([deliver(url, event), deliver(url, event)])).map((a) => a.status)).toEqual([200, 200]);
    const key = `stripe:${String(JSON.parse(event).id)}`;
    await expect
      .poll(async () => (await app.billingStore.billingEvent(key))?.handled?.outcome, { timeout: 10_000 })
      .toBe('reported unknown tenant globex');
  });
});
