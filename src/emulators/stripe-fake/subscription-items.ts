/**
 * Updating a subscription item (`POST /v1/subscription_items/:id`), as a plan
 * change swaps the plan's price: the new price must exist, be active and not
 * be on another item of the subscription; `proration_behavior` is one of
 * Stripe's three, and `create_prorations` (the default) leaves a pending
 * proration for the change, `always_invoice` too (invoiced at once), `none` none.
 */
import { StripeFakeError } from './errors.ts';
import { allowOnly, metadataParam, optionalInteger, optionalText, type FormObject } from './form.ts';
import { nowSeconds, type StripeState, type SubscriptionItemRecord, type SubscriptionRecord } from './state.ts';
import { renderSubscriptionItem } from './subscriptions.ts';

const PRORATION_BEHAVIORS = ['create_prorations', 'none', 'always_invoice'] as const;

export function updateSubscriptionItem(state: StripeState, params: FormObject, itemId: string): unknown {
  allowOnly(params, ['price', 'quantity', 'proration_behavior', 'proration_date', 'metadata', 'payment_behavior', 'expand']);
  const found = itemOf(state, itemId);
  if (!found || found.subscription.status === 'canceled') throw StripeFakeError.notFound('subscription_item', itemId);
  const { subscription, item } = found;
  const behavior = optionalText(params, 'proration_behavior') ?? 'create_prorations';
  if (!(PRORATION_BEHAVIORS as readonly string[]).includes(behavior)) {
    throw StripeFakeError.invalid('proration_behavior', 'Invalid proration_behavior: must be one of create_prorations, none, or always_invoice');
  }
  const priceId = optionalText(params, 'price');
  if (priceId !== undefined && priceId !== item.price) {
    const price = state.prices.get(priceId);
    if (price === undefined) throw StripeFakeError.missingReference('price', priceId, 'price');
    if (!price.active) throw StripeFakeError.invalid('price', 'The price specified is inactive. This field only accepts active prices.');
    if (subscription.items.some((other) => other.id !== item.id && other.price === priceId)) {
      throw StripeFakeError.invalid('price', `Cannot add multiple subscription items with the same price: ${priceId}`);
    }
    if (behavior !== 'none')
      subscription.prorations.push({
        item: item.id,
        fromPrice: item.price,
        toPrice: priceId,
        at: optionalInteger(params, 'proration_date') ?? nowSeconds(),
      });
    item.price = priceId;
  }
  const quantity = optionalInteger(params, 'quantity');
  if (quantity !== undefined && item.quantity !== null) item.quantity = quantity;
  metadataParam(params);
  return renderSubscriptionItem(state, subscription, item);
}

function itemOf(state: StripeState, itemId: string): { subscription: SubscriptionRecord; item: SubscriptionItemRecord } | undefined {
  for (const subscription of state.subscriptions.values()) {
    const item = subscription.items.find((i) => i.id === itemId);
    if (item) return { subscription, item };
  }
  return undefined;
}
