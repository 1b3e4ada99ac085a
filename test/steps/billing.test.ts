/**
 * The billing step with the real Stripe SDK against the stateful Stripe fake
 * on loopback: every assertion reads what the fake holds, not what the step
 * says it did.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { format } from 'date-fns/format';
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { PlansManifestSchema } from '../../src/domain/plan.ts';
import { pricesForPlans, startStripeFake, type StripeFake } from '../../src/emulators/stripe-fake.ts';
import { parseManifestText } from '../../src/manifests/load.ts';
import { billingStep } from '../../src/steps/billing.ts';
import type { StepContext } from '../../src/steps/step.ts';
import { sampleTenant, stepContext } from '../support/step-context.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A calendar day relative to today, as the intake writes it (UTC). */
function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10);
}

function stripeClient(fake: StripeFake, key = fake.apiKey): Stripe {
  return new Stripe(key, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
}

type Deal = { slug: string; jobId: string };

function newDeal(): Deal {
  const suffix = randomBytes(4).toString('hex');
  return { slug: `acme-${suffix}`, jobId: `acme-${suffix}-job` };
}

function config(deal: Deal, overrides: Record<string, unknown> = {}) {
  return {
    tenantId: `tnt_${deal.slug}`,
    customerName: 'Acme Corp',
    customerEmail: 'jane@acme.example.com',
    metadata: { crm_opportunity_id: 'OPP-1', plan: 'growth' },
    priceRef: 'price_growth_annual',
    trialDays: 0,
    contractStartDate: day(0),
    meters: [],
    ...overrides,
  };
}

describe('the billing step puts a closed deal on a Stripe subscription', () => {
  let fake: StripeFake;
  let stripe: Stripe;

  beforeEach(async () => {
    fake = await startStripeFake({
      prices: [
        { id: 'price_growth_annual', unit_amount: 1_200_000, recurring: { interval: 'year' } },
        { id: 'price_enterprise_annual', unit_amount: 6_000_000, recurring: { interval: 'year' } },
        { lookup_key: 'api_calls', recurring: { interval: 'month', usage_type: 'metered' } },
      ],
    });
    stripe = stripeClient(fake);
  });
  afterEach(() => fake.close());

  function ctx(deal: Deal, outputs: Record<string, unknown> = {}, client: Stripe = stripe): StepContext<unknown> {
    return stepContext({
      jobId: deal.jobId,
      stepId: 'billing',
      tenant: sampleTenant({ slug: deal.slug }),
      services: { stripe: async () => client },
      outputs,
    });
  }

  /** The rollback of a decommissioning: the tenant was live and its customer paid for the period. */
  function decommissioning(deal: Deal, outputs: Record<string, unknown> = {}): StepContext<unknown> {
    return { ...ctx(deal, outputs), rollbackPurpose: 'decommission' };
  }

  it('a growth deal starting today gets one customer and an active subscription on the plan price', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal));
    const result = await step.run(ctx(deal));
    expect(result.status).toBe('done');
    const outputs = result.outputs ?? {};
    expect(outputs).toMatchObject({ status: 'active', customerId: expect.stringMatching(/^cus_/), subscriptionId: expect.stringMatching(/^sub_/) });
    expect(outputs).not.toHaveProperty('trialEnd');

    const [customer, ...others] = fake.customersFor(`tnt_${deal.slug}`);
    expect(others).toEqual([]);
    expect(customer).toMatchObject({ id: outputs['customerId'], name: 'Acme Corp', email: 'jane@acme.example.com' });
    expect(customer?.metadata).toMatchObject({ tenant_id: `tnt_${deal.slug}`, crm_opportunity_id: 'OPP-1', plan: 'growth' });
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)).toEqual([
      expect.objectContaining({ id: outputs['subscriptionId'], status: 'active', priceIds: ['price_growth_annual'] }),
    ]);
    const subscription = await stripe.subscriptions.retrieve(String(outputs['subscriptionId']));
    expect(subscription).toMatchObject({ collection_method: 'send_invoice', days_until_due: 30 });

    expect(await step.check(ctx(deal, outputs))).toEqual({ status: 'done', outputs });
    expect(step.describe(outputs)).toBe(`Stripe subscription ${String(outputs['subscriptionId'])} on price_growth_annual created for Acme Corp`);
  });

  it('a plan with a 14-day trial is trialing, and billing starts when the trial ends', async () => {
    const deal = newDeal();
    const result = await billingStep.bind(config(deal, { trialDays: 14 })).run(ctx(deal));
    expect(result.outputs).toMatchObject({ status: 'trialing', trialEnd: `${day(14)}T00:00:00.000Z` });
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)[0]?.trialEnd).toBe(Date.parse(`${day(14)}T00:00:00Z`) / 1000);
  });

  it('a contract that starts next month is trialing until the contract start date', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal, { contractStartDate: day(30) }));
    const result = await step.run(ctx(deal));
    expect(result.outputs).toMatchObject({ status: 'trialing', trialEnd: `${day(30)}T00:00:00.000Z` });
    expect(step.describe(result.outputs ?? {})).toContain(`billing from ${day(30)}`);
  });

  it('a contract that started last week with a trial already over bills from now', async () => {
    const deal = newDeal();
    const result = await billingStep.bind(config(deal, { contractStartDate: day(-7), trialDays: 3 })).run(ctx(deal));
    expect(result.outputs).toMatchObject({ status: 'active' });
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)[0]?.trialEnd).toBeNull();
  });

  it('a retry after a crash (outputs never recorded) creates no second customer or subscription', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal, { trialDays: 14 }));
    const first = await step.run(ctx(deal));
    const again = await step.run(ctx(deal));
    const withOutputs = await step.run(ctx(deal, first.outputs));
    expect(again.outputs).toEqual(first.outputs);
    expect(withOutputs.outputs).toEqual(first.outputs);
    expect(fake.customersFor(`tnt_${deal.slug}`)).toHaveLength(1);
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)).toHaveLength(1);
  });

  it('while Stripe search still lags the new customer, the idempotency key keeps a retry from creating a second one', async () => {
    const lagging = await startStripeFake({
      searchIndexDelayMs: 60_000,
      prices: [{ id: 'price_growth_annual', unit_amount: 1000, recurring: { interval: 'year' } }],
    });
    try {
      const deal = newDeal();
      const step = billingStep.bind(config(deal));
      const first = await step.run(ctx(deal, {}, stripeClient(lagging)));
      const retry = await step.run(ctx(deal, {}, stripeClient(lagging)));
      expect(retry.outputs).toEqual(first.outputs);
      expect(lagging.customersFor(`tnt_${deal.slug}`)).toHaveLength(1);
      expect(lagging.liveSubscriptionsFor(`tnt_${deal.slug}`)).toHaveLength(1);
      const customerCreates = lagging.requests().filter((r) => r.method === 'POST' && r.path === '/v1/customers');
      expect(customerCreates.map((r) => r.replayed)).toEqual([false, true]);
    } finally {
      await lagging.close();
    }
  });

  it('an enterprise deal with a usage meter gets the metered item and the meter, shared by the next tenant', async () => {
    const deal = newDeal();
    const enterprise = { priceRef: 'price_enterprise_annual', meters: ['api_calls'] };
    const result = await billingStep.bind(config(deal, enterprise)).run(ctx(deal));
    const [meteredPrice] = (await stripe.prices.list({ lookup_keys: ['api_calls'] })).data;
    const [subscription] = fake.liveSubscriptionsFor(`tnt_${deal.slug}`);
    expect(subscription?.priceIds).toEqual(['price_enterprise_annual', meteredPrice?.id]);
    expect(subscription?.id).toBe(result.outputs?.['subscriptionId']);
    expect(fake.meters()).toEqual([expect.objectContaining({ eventName: 'api_calls', displayName: 'Api calls', status: 'active' })]);

    const next = newDeal();
    await billingStep.bind(config(next, enterprise)).run(ctx(next));
    expect(fake.meters()).toHaveLength(1);
  });

  it('rollback leaves no live subscription and no customer; a second rollback is fine; the meter stays', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal, { priceRef: 'price_enterprise_annual', meters: ['api_calls'] }));
    const { outputs = {} } = await step.run(ctx(deal));
    await step.rollback(ctx(deal, outputs));
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)).toEqual([]);
    expect(fake.customersFor(`tnt_${deal.slug}`)).toEqual([]);
    await step.rollback(ctx(deal, outputs));
    await step.rollback(ctx(deal));
    expect(fake.meters()).toHaveLength(1);
    expect(await step.check(ctx(deal, outputs))).toMatchObject({ status: 'missing' });
  });

  it('a decommissioning lets the subscription run to the end of its paid period, keeps the customer, and says until when', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal));
    const { outputs = {} } = await step.run(ctx(deal));
    const subscriptionId = String(outputs['subscriptionId']);

    const undone = await step.rollback(decommissioning(deal, outputs));
    // As on Stripe: still active, set to cancel when the current period ends, the customer still there for its invoices.
    const subscription = await stripe.subscriptions.retrieve(subscriptionId);
    const periodEnd = subscription.items.data[0]?.current_period_end;
    expect(periodEnd).toBeGreaterThan(Date.now() / 1000 + 360 * 86_400);
    expect(subscription).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: periodEnd, ended_at: null });
    expect(fake.customersFor(`tnt_${deal.slug}`)).toHaveLength(1);
    const day = format((periodEnd ?? 0) * 1000, 'd MMMM yyyy');
    expect(undone).toEqual({
      summary: `Stripe subscription ${subscriptionId} cancels at the end of its period, ${day} (paid until then); the customer Acme Corp is kept in Stripe for its invoices`,
    });

    // Again (a retried rollback), and with the outputs lost: the same end, no second change.
    const requests = fake.requests().filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${subscriptionId}`).length;
    expect(await step.rollback(decommissioning(deal, outputs))).toEqual(undone);
    expect(await step.rollback(decommissioning(deal))).toEqual(undone);
    expect(fake.requests().filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${subscriptionId}`)).toHaveLength(requests);
    expect((await stripe.subscriptions.retrieve(subscriptionId)).cancel_at).toBe(periodEnd);

    // Someone canceled it in Stripe meanwhile: nothing is left to end, and that is fine.
    await stripe.subscriptions.cancel(subscriptionId);
    expect(await step.rollback(decommissioning(deal, outputs))).toEqual({
      summary: 'No Stripe subscription of Acme Corp was still live: nothing left to end',
    });
  });

  it('rollback after a crash before outputs were recorded finds the customer and subscription by tenant', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal, { trialDays: 14 }));
    await step.run(ctx(deal));
    await step.rollback(ctx(deal));
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)).toEqual([]);
    expect(fake.customersFor(`tnt_${deal.slug}`)).toEqual([]);
  });

  it("rollback removes only what its own job created: another job's customer for the tenant stays", async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal));
    const original = await step.run(ctx(deal));
    const otherJob = { ...deal, jobId: `${deal.jobId}-again` };
    const reused = await step.run(ctx(otherJob));
    expect(reused.outputs).toEqual(original.outputs);
    await step.rollback(ctx(otherJob, reused.outputs));
    expect(fake.customersFor(`tnt_${deal.slug}`)).toHaveLength(1);
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)).toHaveLength(1);
  });

  it('check reports missing once someone deletes the customer or cancels the subscription in Stripe', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal));
    const { outputs = {} } = await step.run(ctx(deal));
    await stripe.subscriptions.cancel(String(outputs['subscriptionId']));
    expect(await step.check(ctx(deal, outputs))).toEqual({
      status: 'missing',
      reason: `Stripe subscription ${String(outputs['subscriptionId'])} is canceled`,
    });

    const other = newDeal();
    const otherOutputs = (await step.run(ctx(other))).outputs ?? {};
    await stripe.customers.del(String(otherOutputs['customerId']));
    expect(await billingStep.bind(config(other)).check(ctx(other, otherOutputs))).toMatchObject({ status: 'missing' });
  });

  it('a 429 or a 5xx from Stripe is transient, and the retry then succeeds with one customer', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal));
    fake.failNext(1, 429, '/v1/customers');
    await expect(step.run(ctx(deal))).rejects.toSatisfy((err) => err instanceof TransientError && /429/.test(err.message));
    fake.failNext(1, 500, '/v1/subscriptions');
    await expect(step.run(ctx(deal))).rejects.toSatisfy((err) => err instanceof TransientError && /500/.test(err.message));
    expect((await step.run(ctx(deal))).outputs).toMatchObject({ status: 'active' });
    expect(fake.customersFor(`tnt_${deal.slug}`)).toHaveLength(1);
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)).toHaveLength(1);
  });

  it('Stripe unreachable is transient', async () => {
    const deal = newDeal();
    const closed = new Stripe(fake.apiKey, { host: '127.0.0.1', port: 9, protocol: 'http', maxNetworkRetries: 0 });
    await expect(billingStep.bind(config(deal)).run(ctx(deal, {}, closed))).rejects.toBeInstanceOf(TransientError);
  });

  it('an unknown plan price is permanent, names the price and where to fix it, and creates nothing; after the fix the same job succeeds', async () => {
    const deal = newDeal();
    const wrong = billingStep.bind(config(deal, { priceRef: 'price_growth_anual' }));
    const failure = await wrong.run(ctx(deal)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PermanentError);
    expect(failure).toHaveProperty(
      'message',
      "Stripe has no price 'price_growth_anual' (neither a lookup key nor a price id); check billing.priceRef in manifests/plans.yaml",
    );
    expect(fake.liveSubscriptionsFor(`tnt_${deal.slug}`)).toEqual([]);
    expect(fake.customersFor(`tnt_${deal.slug}`)).toEqual([]);

    const fixed = await billingStep.bind(config(deal)).run(ctx(deal));
    expect(fixed.outputs).toMatchObject({ status: 'active' });
    expect(fake.customersFor(`tnt_${deal.slug}`)).toHaveLength(1);
  });

  it('a meter without a metered price in Stripe is permanent and names the meter', async () => {
    const deal = newDeal();
    const step = billingStep.bind(config(deal, { meters: ['seats_active'] }));
    await expect(step.run(ctx(deal))).rejects.toSatisfy(
      (err) => err instanceof PermanentError && err.message.includes("lookup key 'seats_active'") && err.message.includes('billing.meters'),
    );
  });

  it('a wrong API key is permanent, names the setting to fix and never shows the key', async () => {
    const deal = newDeal();
    const badKey = 'sk_test_thisKeyIsWrong0123456789';
    const failure = await billingStep
      .bind(config(deal))
      .run(ctx(deal, {}, stripeClient(fake, badKey)))
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PermanentError);
    expect(String(failure)).toContain('STRIPE_SECRET_KEY');
    expect(String(failure)).not.toContain('0123456789');
  });

  it('config with a bad email or date is refused when the pipeline is bound, naming the field', () => {
    const deal = newDeal();
    expect(() => billingStep.bind(config(deal, { customerEmail: 'not-an-email' }))).toThrow(/customerEmail/);
    expect(() => billingStep.bind(config(deal, { contractStartDate: '2026-02-30' }))).toThrow(/not a real calendar date/);
    expect(() => billingStep.bind({ ...config(deal), extra: 1 })).toThrow();
  });

  it('every plan in manifests/plans.yaml can be billed against the local catalogue made from it', async () => {
    const { value: manifest } = parseManifestText('plans.yaml', readFileSync('manifests/plans.yaml', 'utf8'), PlansManifestSchema);
    if (manifest === undefined) throw new Error('manifests/plans.yaml does not parse');
    const local = await startStripeFake({ prices: pricesForPlans(manifest.plans) });
    try {
      for (const [planId, plan] of Object.entries(manifest.plans)) {
        const deal = newDeal();
        const { billing } = plan;
        const step = billingStep.bind(config(deal, { priceRef: billing.priceRef, trialDays: billing.trialDays, meters: billing.meters }));
        const result = await step.run(ctx(deal, {}, stripeClient(local)));
        expect(result.outputs, planId).toMatchObject({ status: billing.trialDays > 0 ? 'trialing' : 'active' });
        expect(local.liveSubscriptionsFor(`tnt_${deal.slug}`)[0]?.priceIds, planId).toHaveLength(1 + billing.meters.length);
      }
    } finally {
      await local.close();
    }
  });
});
