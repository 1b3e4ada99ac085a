/**
 * The Stripe emulator tells the provisioner about subscription changes the
 * way Stripe does: signed events POSTed to the configured endpoint after the
 * API call, retried with growing delays until answered 2xx. The provisioner's
 * real webhook route verifies them with the SDK and records them.
 */
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_STRIPE_WEBHOOK_SECRET } from '../../src/config.ts';
import { billingTruth } from '../../src/domain/entitlements.ts';
import { stripeSignatureHeader } from '../../src/emulators/stripe-fake/webhooks.ts';
import { dealFor, startTestApp, stopTestApp, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

describe('the Stripe emulator sends signed webhooks', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  async function serving() {
    app = await startTestApp({ pipeline: pipelineOf(sandbox('database')), serveWeb: true, emulators: true });
    if (!app.web || !app.emulators) throw new Error('the HTTP server or the emulators were not started');
    const url = await app.web.listen(0);
    const { job } = await app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    await waitForRecord(app, job.jobId);
    const fake = app.emulators.stripe;
    const stripe = new Stripe(fake.apiKey, { host: '127.0.0.1', port: fake.port, protocol: 'http' });
    return { url, slug: job.tenant.slug, app, fake, stripe };
  }

  it('signs as Stripe does: t=…,v1=HMAC-SHA256 of "t.payload", which the SDK verifies', () => {
    const payload = JSON.stringify({ id: 'evt_1', object: 'event' });
    const header = stripeSignatureHeader(payload, LOCAL_STRIPE_WEBHOOK_SECRET, 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(Stripe.webhooks.constructEvent(payload, header, LOCAL_STRIPE_WEBHOOK_SECRET, 0)).toMatchObject({ id: 'evt_1' });
    expect(header).toBe(Stripe.webhooks.generateTestHeaderString({ payload, secret: LOCAL_STRIPE_WEBHOOK_SECRET, timestamp: 1_700_000_000 }));
  });

  it('tells the provisioner a subscription was created and then cancelled', async () => {
    const { url, slug, app, fake, stripe } = await serving();
    fake.sendWebhooksTo({ url: `${url}/webhooks/stripe`, secret: LOCAL_STRIPE_WEBHOOK_SECRET });

    const customer = await stripe.customers.create({ name: 'Initech', metadata: { tenant_id: `tnt_${slug}` } });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_growth_annual' }],
      trial_end: Math.floor(Date.now() / 1000) + 14 * 86_400,
      metadata: { tenant_id: `tnt_${slug}` },
    });
    await expect
      .poll(async () => billingTruth(await app.billingStore.billingEventsOf(slug)).subscription?.value, { timeout: 10_000 })
      .toEqual({
        id: subscription.id,
        state: 'trialing',
        planId: 'growth',
      });

    await stripe.subscriptions.cancel(subscription.id);
    await expect
      .poll(async () => billingTruth(await app.billingStore.billingEventsOf(slug)).subscription?.value.state, { timeout: 10_000 })
      .toBe('canceled');
    // The emulator notes a delivery once our answer is back, a moment after we recorded the event.
    await expect
      .poll(() => fake.webhookDeliveries().map((d) => [d.type, d.attempt, d.status]))
      .toEqual([
        ['customer.subscription.created', 1, 200],
        ['customer.subscription.deleted', 1, 200],
      ]);
  });

  it('tells the provisioner a subscription will cancel at its period end as an update: still trialing until then', async () => {
    const { url, slug, app, fake, stripe } = await serving();
    const customer = await stripe.customers.create({ name: 'Initech', metadata: { tenant_id: `tnt_${slug}` } });
    const trialEnd = Math.floor(Date.now() / 1000) + 14 * 86_400;
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_growth_annual' }],
      trial_end: trialEnd,
      metadata: { tenant_id: `tnt_${slug}` },
    });
    fake.sendWebhooksTo({ url: `${url}/webhooks/stripe`, secret: LOCAL_STRIPE_WEBHOOK_SECRET });

    const ending = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    expect(ending).toMatchObject({ status: 'trialing', cancel_at_period_end: true, cancel_at: trialEnd, ended_at: null });
    await expect
      .poll(async () => billingTruth(await app.billingStore.billingEventsOf(slug)).subscription?.value, { timeout: 10_000 })
      .toEqual({ id: subscription.id, state: 'trialing', planId: 'growth', endsAt: trialEnd * 1000 });
    // Asked twice, it is one change: nothing new to tell.
    await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    // Taken back, it runs on. (A second later: Stripe stamps events to the second, and two changes in
    // the same second cannot be told apart by their stamp — see stripe-events.ts.)
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false })).toMatchObject({
      status: 'trialing',
      cancel_at_period_end: false,
      cancel_at: null,
    });
    await expect.poll(() => fake.webhookDeliveries().length, { timeout: 10_000 }).toBe(2);
    expect(fake.webhookDeliveries().map((d) => [d.type, d.status])).toEqual([
      ['customer.subscription.updated', 200],
      ['customer.subscription.updated', 200],
    ]);
    await expect
      .poll(async () => billingTruth(await app.billingStore.billingEventsOf(slug)).subscription?.value, { timeout: 10_000 })
      .toEqual({ id: subscription.id, state: 'trialing', planId: 'growth' });
  });

  it('ends a subscription set to cancel at its period end when that end comes, and says so with customer.subscription.deleted', async () => {
    const { url, slug, app, fake, stripe } = await serving();
    const customer = await stripe.customers.create({ name: 'Initech', metadata: { tenant_id: `tnt_${slug}` } });
    // A trial ending in two seconds: its period's end comes within the test.
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_growth_annual' }],
      trial_end: Math.floor(Date.now() / 1000) + 2,
      metadata: { tenant_id: `tnt_${slug}` },
    });
    await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    fake.sendWebhooksTo({ url: `${url}/webhooks/stripe`, secret: LOCAL_STRIPE_WEBHOOK_SECRET });
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    // The fake has no clock of its own: the next request finds the period over.
    expect(await stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'canceled', ended_at: subscription.trial_end });
    await expect
      .poll(async () => billingTruth(await app.billingStore.billingEventsOf(slug)).subscription?.value.state, { timeout: 10_000 })
      .toBe('canceled');
    // The emulator notes a delivery once our answer is back, a moment after we recorded the event.
    await expect.poll(() => fake.webhookDeliveries().map((d) => d.type)).toEqual(['customer.subscription.deleted']);
  });

  it('retries an event its endpoint refused, with growing delays, a few times', async () => {
    const { url, slug, fake, stripe } = await serving();
    // A rotated secret the provisioner does not know yet: every delivery is refused with 400.
    fake.sendWebhooksTo({ url: `${url}/webhooks/stripe`, secret: 'whsec_rotated_but_not_deployed', retryDelaysMs: [100, 300] });
    const customer = await stripe.customers.create({ name: 'Initech', metadata: { tenant_id: `tnt_${slug}` } });
    await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_starter_monthly' }],
      trial_end: Math.floor(Date.now() / 1000) + 14 * 86_400,
    });

    await expect.poll(() => fake.webhookDeliveries().length, { timeout: 10_000 }).toBe(3);
    expect(fake.webhookDeliveries().map((d) => [d.attempt, d.status])).toEqual([
      [1, 400],
      [2, 400],
      [3, 400],
    ]);
    expect(new Set(fake.webhookDeliveries().map((d) => d.eventId)).size).toBe(1);
  });
});
