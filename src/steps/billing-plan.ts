/**
 * A plan change in Stripe: the tenant's subscription item on the old plan's
 * price is swapped for the new plan's price, with proration (Stripe bills or
 * credits the rest of the period). Found by the tenant's customer metadata,
 * so every attempt, check and rollback finds the same item; an item already
 * on the new price is done. Rollback swaps back, prorated again.
 */
import type Stripe from 'stripe';
import { z } from 'zod';
import { PermanentError } from '../domain/errors.ts';
import { stripeCall } from './billing/errors.ts';
import { creationKey } from './billing/keys.ts';
import { findLiveSubscriptions, findTenantCustomers, resolvePrices } from './billing/lookups.ts';
import { defineStep, type StepContext } from './step.ts';

const input = z.strictObject({
  tenantId: z.string().min(1),
  /** The old plan's price and the new one: lookup keys or Stripe price ids, as billing.priceRef in plans.yaml. */
  fromPriceRef: z.string().min(1),
  toPriceRef: z.string().min(1),
});
type Input = z.output<typeof input>;

type Swap = { subscription: Stripe.Subscription; item: Stripe.SubscriptionItem; fromPriceId: string; toPriceId: string };

/** The tenant's live subscription and its item on either plan's price. */
async function findSwap(ctx: StepContext<Input>): Promise<Swap> {
  const stripe = await ctx.services.stripe();
  const { tenantId } = ctx.input;
  const [customer] = await stripeCall('lookup', () => findTenantCustomers(stripe, tenantId));
  if (!customer) throw new PermanentError(`Stripe has no customer for tenant ${tenantId}, so its plan cannot change there`);
  const [subscription] = await stripeCall('lookup', () => findLiveSubscriptions(stripe, customer.id));
  if (!subscription) throw new PermanentError(`tenant ${tenantId} has no live Stripe subscription to move to another plan`);
  const [from, to] = await Promise.all([
    stripeCall('price lookup', () => resolvePrices(stripe, ctx.input.fromPriceRef, [])),
    stripeCall('price lookup', () => resolvePrices(stripe, ctx.input.toPriceRef, [])),
  ]);
  const item = subscription.items.data.find((i) => i.price.id === from.planPriceId || i.price.id === to.planPriceId);
  if (!item) {
    throw new PermanentError(
      `subscription ${subscription.id} of tenant ${tenantId} has no item on ${ctx.input.fromPriceRef} or ${ctx.input.toPriceRef}`,
    );
  }
  return { subscription, item, fromPriceId: from.planPriceId, toPriceId: to.planPriceId };
}

async function moveItem(ctx: StepContext<Input>, item: Stripe.SubscriptionItem, priceId: string, why: string): Promise<void> {
  if (item.price.id === priceId) return;
  const params: Stripe.SubscriptionItemUpdateParams = { price: priceId, proration_behavior: 'create_prorations' };
  const stripe = await ctx.services.stripe();
  await stripeCall('subscription item', () =>
    stripe.subscriptionItems.update(item.id, params, {
      idempotencyKey: creationKey(ctx.idempotencyKey, why, { item: item.id, ...params }),
    }),
  );
}

export const billingPlanStep = defineStep({
  type: 'billing_plan',
  description: "Moves the tenant's Stripe subscription item to the new plan's price, with proration.",
  facts: { subscriptionId: 'Billing subscription' },
  input,
  uses: ['stripe'],
  async run(ctx) {
    const swap = await findSwap(ctx);
    await moveItem(ctx, swap.item, swap.toPriceId, 'plan-change');
    return {
      status: 'done',
      outputs: { subscriptionId: swap.subscription.id, itemId: swap.item.id, fromPriceId: swap.fromPriceId, toPriceId: swap.toPriceId },
    };
  },
  async check(ctx) {
    const swap = await findSwap(ctx);
    if (swap.item.price.id === swap.toPriceId) return { status: 'done' };
    return { status: 'missing', reason: `subscription ${swap.subscription.id} is on ${swap.item.price.id}, not ${swap.toPriceId}` };
  },
  async rollback(ctx) {
    const swap = await findSwap(ctx);
    await moveItem(ctx, swap.item, swap.fromPriceId, 'plan-change-undone');
  },
  plan(cfg) {
    return {
      summary: `Move ${cfg.tenantId}'s Stripe subscription from ${cfg.fromPriceRef} to ${cfg.toPriceRef}, prorated for the rest of the period`,
      resources: [
        {
          system: 'Stripe',
          kind: 'subscription item',
          name: `${cfg.tenantId}'s item on ${cfg.fromPriceRef}`,
          settings: [`price ${cfg.fromPriceRef} → ${cfg.toPriceRef}`, 'prorated (Stripe bills or credits the difference)'],
          unknown: ['subscription id: found by the tenant when the step runs'],
        },
      ],
    };
  },
  describe(cfg, outputs) {
    const subscription = typeof outputs['subscriptionId'] === 'string' ? ` ${outputs['subscriptionId']}` : '';
    return `Stripe subscription${subscription} moved from ${cfg.fromPriceRef} to ${cfg.toPriceRef}, prorated`;
  },
});
