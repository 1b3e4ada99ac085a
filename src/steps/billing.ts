/**
 * Bills the new tenant in Stripe: a customer for the company and a
 * subscription on the plan's price, plus one metered item per usage meter.
 * Billing starts on the contract start date, after the plan's trial; until
 * then the subscription is trialing. Invoices go to the admin's email (sales-
 * led deals pay by invoice, not by card). Undone, it cancels both at once; a
 * decommissioning instead lets the subscription run to its period's end.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { getUnixTime } from 'date-fns/getUnixTime';
import { isValid } from 'date-fns/isValid';
import { parseISO } from 'date-fns/parseISO';
import { billingError, isResourceMissing, stripeCall, type BillingObject } from './billing/errors.ts';
import { creationKey } from './billing/keys.ts';
import {
  JOB_KEY,
  TENANT_KEY,
  ensureMeters,
  findLiveSubscriptions,
  findTenantCustomers,
  isLive,
  resolvePrices,
  type PlanPrices,
} from './billing/lookups.ts';
import { endWithPeriod } from './billing/period-end.ts';
import { trialEndFor } from './billing/schedule.ts';
import { defineStep, type Outputs, type StepContext } from './step.ts';

const input = z.strictObject({
  tenantId: z.string().min(1).max(200),
  customerName: z.string().trim().min(1).max(256),
  customerEmail: z.email({ error: 'customerEmail must be an email address, e.g. jane@acme.com' }),
  /** Stripe metadata: at most 40-character keys without brackets, 500-character values. */
  metadata: z
    .record(
      z
        .string()
        .min(1)
        .max(40)
        .regex(/^[^[\]]+$/),
      z.string().max(500),
    )
    .default({}),
  /** A price lookup key, or a Stripe price id. */
  priceRef: z.string().min(1),
  trialDays: z.int().nonnegative().max(730).default(0),
  contractStartDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'contractStartDate must be YYYY-MM-DD, e.g. 2026-11-02' })
    .refine((value) => isValid(parseISO(value)), { error: (issue) => `${String(issue.input)} is not a real calendar date` }),
  /** Usage meter event names; each one's metered price has the meter name as its lookup key. */
  meters: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/)).default([]),
  daysUntilDue: z.int().min(1).max(365).default(30),
});
type Input = z.output<typeof input>;
type Context = StepContext<Input>;

function recorded(outputs: Outputs, name: 'customerId' | 'subscriptionId'): string | undefined {
  const value = outputs[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Tenant and job on every object we create: search finds the tenant's, rollback removes only this job's. */
function ownership(ctx: Context): Record<string, string> {
  return { ...ctx.input.metadata, [TENANT_KEY]: ctx.input.tenantId, [JOB_KEY]: ctx.jobId };
}

async function findOrCreateCustomer(ctx: Context): Promise<Stripe.Customer> {
  const stripe = await ctx.services.stripe();
  const [existing] = await stripeCall('lookup', () => findTenantCustomers(stripe, ctx.input.tenantId));
  if (existing) return existing;
  const params: Stripe.CustomerCreateParams = { name: ctx.input.customerName, email: ctx.input.customerEmail, metadata: ownership(ctx) };
  return stripeCall('customer', () => stripe.customers.create(params, { idempotencyKey: creationKey(ctx.idempotencyKey, 'customer', params) }));
}

async function findOrCreateSubscription(ctx: Context, customerId: string, prices: PlanPrices): Promise<Stripe.Subscription> {
  const stripe = await ctx.services.stripe();
  const [existing] = await stripeCall('lookup', () => findLiveSubscriptions(stripe, customerId));
  if (existing) return existing;
  const trialEnd = trialEndFor(ctx.input.contractStartDate, ctx.input.trialDays, new Date());
  const params: Stripe.SubscriptionCreateParams = {
    customer: customerId,
    items: [{ price: prices.planPriceId }, ...prices.meteredPriceIds.map((price) => ({ price }))],
    collection_method: 'send_invoice',
    days_until_due: ctx.input.daysUntilDue,
    metadata: ownership(ctx),
    ...(trialEnd === undefined ? {} : { trial_end: getUnixTime(trialEnd) }),
  };
  return stripeCall('subscription', () =>
    stripe.subscriptions.create(params, { idempotencyKey: creationKey(ctx.idempotencyKey, 'subscription', params) }),
  );
}

function outputsOf(customerId: string, subscription: Stripe.Subscription): Outputs {
  return {
    customerId,
    subscriptionId: subscription.id,
    status: subscription.status,
    ...(subscription.trial_end === null ? {} : { trialEnd: new Date(subscription.trial_end * 1000).toISOString() }),
  };
}

/**
 * A call whose object may be gone: Stripe's "No such …" answers undefined.
 * That makes check report "missing" and a second rollback a no-op.
 */
async function unlessMissing<T>(object: BillingObject, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (isResourceMissing(err)) return undefined;
    throw billingError(err, object);
  }
}

/** Every live customer of the tenant: found by search, plus the recorded one (search lags new customers). */
async function tenantCustomers(ctx: Context): Promise<Stripe.Customer[]> {
  const stripe = await ctx.services.stripe();
  const found = await stripeCall('lookup', () => findTenantCustomers(stripe, ctx.input.tenantId));
  const recordedId = recorded(ctx.outputs, 'customerId');
  if (recordedId === undefined || found.some((customer) => customer.id === recordedId)) return found;
  const customer = await unlessMissing('customer', () => stripe.customers.retrieve(recordedId));
  return customer === undefined || customer.deleted ? found : [...found, customer];
}

/** The recorded subscription (if still live) and every live subscription of these customers. */
async function liveSubscriptionsOf(ctx: Context, customers: readonly Stripe.Customer[]): Promise<Stripe.Subscription[]> {
  const stripe = await ctx.services.stripe();
  const found = new Map<string, Stripe.Subscription>();
  const recordedId = recorded(ctx.outputs, 'subscriptionId');
  if (recordedId !== undefined) {
    const subscription = await unlessMissing('subscription', () => stripe.subscriptions.retrieve(recordedId));
    if (subscription !== undefined && isLive(subscription)) found.set(subscription.id, subscription);
  }
  for (const customer of customers) {
    for (const subscription of await stripeCall('lookup', () => findLiveSubscriptions(stripe, customer.id))) found.set(subscription.id, subscription);
  }
  return [...found.values()];
}

export const billingStep = defineStep({
  type: 'billing',
  description: 'Creates the Stripe customer and the subscription on the plan price (with usage meters); billing starts on the contract date.',
  input,
  uses: ['stripe'],
  facts: { customerId: 'Billing customer', subscriptionId: 'Subscription' },
  async run(ctx) {
    const stripe = await ctx.services.stripe();
    await stripeCall('usage meter', () => ensureMeters(stripe, ctx.input.meters));
    const prices = await stripeCall('price lookup', () => resolvePrices(stripe, ctx.input.priceRef, ctx.input.meters));
    const customer = await findOrCreateCustomer(ctx);
    const subscription = await findOrCreateSubscription(ctx, customer.id, prices);
    return { status: 'done', outputs: outputsOf(customer.id, subscription) };
  },
  async check(ctx) {
    const stripe = await ctx.services.stripe();
    const customers = await tenantCustomers(ctx);
    const customer = customers.find((c) => c.id === recorded(ctx.outputs, 'customerId')) ?? customers[0];
    if (customer === undefined) return { status: 'missing', reason: `no Stripe customer has metadata ${TENANT_KEY}=${ctx.input.tenantId}` };
    const subscriptionId =
      recorded(ctx.outputs, 'subscriptionId') ?? (await stripeCall('lookup', () => findLiveSubscriptions(stripe, customer.id)))[0]?.id;
    if (subscriptionId === undefined) return { status: 'missing', reason: `Stripe customer ${customer.id} has no live subscription` };
    const subscription = await unlessMissing('subscription', () => stripe.subscriptions.retrieve(subscriptionId));
    if (subscription === undefined || !isLive(subscription)) {
      return { status: 'missing', reason: `Stripe subscription ${subscriptionId} is ${subscription?.status ?? 'gone'}` };
    }
    return { status: 'done', outputs: outputsOf(customer.id, subscription) };
  },
  async rollback(ctx) {
    const stripe = await ctx.services.stripe();
    // Only what this job created: a customer or subscription reused from another job stays.
    const mine = (object: { metadata: Stripe.Metadata | null }) => object.metadata?.[JOB_KEY] === ctx.jobId;
    const customers = await tenantCustomers(ctx);
    const subscriptions = (await liveSubscriptionsOf(ctx, customers)).filter(mine);
    // A decommissioned customer paid up to its period's end; an undone provisioning sold nothing yet.
    if (ctx.rollbackPurpose === 'decommission') return endWithPeriod(stripe, subscriptions, ctx.input.customerName);
    for (const subscription of subscriptions) {
      await unlessMissing('cancellation', () => stripe.subscriptions.cancel(subscription.id));
    }
    for (const customer of customers.filter(mine)) {
      await unlessMissing('customer deletion', () => stripe.customers.del(customer.id));
    }
  },
  plan(cfg, context) {
    const trialEnd = trialEndFor(cfg.contractStartDate, cfg.trialDays, context.at);
    const starts = trialEnd === undefined ? 'billing starts at once' : `billing starts ${trialEnd.toISOString().slice(0, 10)}`;
    const value = `contract value ${context.intake.contractValue.toLocaleString('en-US')}`;
    const meters = cfg.meters.length > 0 ? [`metered: ${cfg.meters.join(', ')}`] : [];
    const stripe = (kind: string, name: string, settings: string[], unknown: string) => ({
      system: 'Stripe',
      kind,
      name,
      settings,
      unknown: [unknown],
    });
    return {
      summary: `Bill ${cfg.customerName} in Stripe on ${cfg.priceRef}, ${value}, ${starts}`,
      resources: [
        stripe(
          'customer',
          cfg.customerName,
          [`invoices to ${cfg.customerEmail}`, `due in ${cfg.daysUntilDue} days`],
          'customer id: assigned at creation',
        ),
        stripe('subscription', `${cfg.customerName} on ${cfg.priceRef}`, [value, starts, ...meters], 'subscription id: assigned at creation'),
      ],
    };
  },
  describe(cfg, outputs) {
    const subscription = recorded(outputs, 'subscriptionId');
    const trialEnd = typeof outputs['trialEnd'] === 'string' ? `, billing from ${outputs['trialEnd'].slice(0, 10)}` : '';
    if (subscription === undefined) return `Stripe subscription on ${cfg.priceRef} set up for ${cfg.customerName}`;
    return `Stripe subscription ${subscription} on ${cfg.priceRef} created for ${cfg.customerName}${trialEnd}`;
  },
});
