/**
 * Subscriptions: create (trialing until `trial_end`, active when invoiced,
 * incomplete when Stripe would have to charge a card the customer does not
 * have), retrieve, list by customer (canceled ones only on request, like
 * Stripe) and cancel (a second cancel is "No such subscription", as on Stripe).
 * Cancelling at the period's end is an update (subscription-updates.ts); such
 * a subscription is canceled once its `cancel_at` has passed (endDuePeriods).
 */
import { add } from 'date-fns/add';
import { fromUnixTime } from 'date-fns/fromUnixTime';
import { getUnixTime } from 'date-fns/getUnixTime';
import { StripeFakeError } from './errors.ts';
import { renderPrice } from './catalog.ts';
import { allowOnly, isFormObject, metadataParam, optionalInteger, optionalList, optionalText, type FormObject, type FormValue } from './form.ts';
import { listPage, newId, nowSeconds, type Interval, type StripeState, type SubscriptionItemRecord, type SubscriptionRecord } from './state.ts';

const MAX_TRIAL_SECONDS = 730 * 24 * 60 * 60;

type RequestedItem = { price: string; quantity: number | undefined; param: string };

function requestedItems(params: FormObject): RequestedItem[] {
  const raw = optionalList(params, 'items');
  if (raw.length === 0) throw StripeFakeError.validation('parameter_missing', 'items', 'Missing required param: items.');
  return raw.map((item: FormValue, index) => {
    const param = `items[${index}][price]`;
    if (!isFormObject(item)) throw StripeFakeError.validation('parameter_invalid_object', `items[${index}]`, `Invalid object: items[${index}]`);
    const price = optionalText(item, 'price');
    if (price === undefined || price === '') throw StripeFakeError.validation('parameter_missing', param, `Missing required param: ${param}.`);
    return { price, quantity: optionalInteger(item, 'quantity'), param };
  });
}

/** `trial_end`: "now" (no trial) or a Unix time within the next 730 days. */
function requestedTrialEnd(params: FormObject, now: number): number | null {
  const raw = optionalText(params, 'trial_end');
  if (raw === undefined || raw === 'now') return null;
  const trialEnd = optionalInteger(params, 'trial_end') ?? now;
  if (trialEnd <= now) {
    throw StripeFakeError.validation('parameter_invalid_integer', 'trial_end', 'Invalid timestamp: must be an integer Unix timestamp in the future.');
  }
  if (trialEnd - now > MAX_TRIAL_SECONDS) {
    throw StripeFakeError.validation('parameter_invalid_integer', 'trial_end', 'Invalid timestamp: can be no more than 730 days in the future.');
  }
  return trialEnd;
}

function collectionMethod(params: FormObject): SubscriptionRecord['collectionMethod'] {
  const method = optionalText(params, 'collection_method') ?? 'charge_automatically';
  if (method !== 'charge_automatically' && method !== 'send_invoice') {
    throw StripeFakeError.validation(
      'parameter_invalid_string',
      'collection_method',
      `Invalid collection_method: must be one of charge_automatically or send_invoice`,
    );
  }
  return method;
}

function resolveItems(state: StripeState, requested: RequestedItem[], now: number): SubscriptionItemRecord[] {
  const seen = new Set<string>();
  return requested.map(({ price: priceId, quantity, param }) => {
    const price = state.prices.get(priceId);
    if (price === undefined) throw StripeFakeError.missingReference('price', priceId, param);
    if (!price.active) throw StripeFakeError.invalid(param, 'The price specified is inactive. This field only accepts active prices.');
    if (seen.has(priceId)) throw StripeFakeError.invalid(param, `Cannot add multiple subscription items with the same price: ${priceId}`);
    seen.add(priceId);
    const metered = price.recurring?.usageType === 'metered';
    return { id: newId('si', 14), created: now, price: priceId, quantity: metered ? null : (quantity ?? 1) };
  });
}

export function createSubscription(state: StripeState, params: FormObject): unknown {
  allowOnly(params, [
    'customer',
    'items',
    'metadata',
    'trial_end',
    'billing_cycle_anchor',
    'collection_method',
    'days_until_due',
    'description',
    'payment_behavior',
    'proration_behavior',
    'off_session',
    'expand',
  ]);
  const now = nowSeconds();
  const customerId = optionalText(params, 'customer');
  if (customerId === undefined || customerId === '')
    throw StripeFakeError.validation('parameter_missing', 'customer', 'Missing required param: customer.');
  const requested = requestedItems(params);
  const trialEnd = requestedTrialEnd(params, now);
  const method = collectionMethod(params);
  const daysUntilDue = optionalInteger(params, 'days_until_due') ?? null;
  if (method === 'send_invoice' && daysUntilDue === null) {
    throw StripeFakeError.validation('parameter_missing', 'days_until_due', 'Missing required param: days_until_due.');
  }
  const metadata = metadataParam(params);
  const customer = state.customers.get(customerId);
  if (customer === undefined || customer.deleted) throw StripeFakeError.missingReference('customer', customerId, 'customer');
  const items = resolveItems(state, requested, now);
  const subscription: SubscriptionRecord = {
    id: newId('sub'),
    seq: state.nextSeq(),
    created: now,
    customer: customerId,
    status: initialStatus(state, items, trialEnd, method),
    items,
    metadata,
    trialStart: trialEnd === null ? null : now,
    trialEnd,
    billingCycleAnchor: optionalInteger(params, 'billing_cycle_anchor') ?? trialEnd ?? now,
    collectionMethod: method,
    daysUntilDue,
    canceledAt: null,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    endedAt: null,
    prorations: [],
  };
  state.subscriptions.set(subscription.id, subscription);
  return renderSubscription(state, subscription);
}

/** The fake holds no payment methods: a charge due now leaves the subscription incomplete, as on Stripe. */
function initialStatus(
  state: StripeState,
  items: SubscriptionItemRecord[],
  trialEnd: number | null,
  method: SubscriptionRecord['collectionMethod'],
): SubscriptionRecord['status'] {
  if (trialEnd !== null) return 'trialing';
  if (method === 'send_invoice') return 'active';
  const dueNow = items.reduce((sum, item) => sum + (state.prices.get(item.price)?.unitAmount ?? 0) * (item.quantity ?? 0), 0);
  return dueNow > 0 ? 'incomplete' : 'active';
}

export function cancelSubscriptionRecord(subscription: SubscriptionRecord): void {
  const now = nowSeconds();
  subscription.status = 'canceled';
  subscription.canceledAt = now;
  subscription.endedAt = now;
  subscription.cancelAt = null;
}

/** Subscriptions set to cancel at their period's end whose end has come are canceled then, as Stripe does. */
export function endDuePeriods(state: StripeState, now = nowSeconds()): void {
  for (const subscription of state.subscriptions.values()) {
    if (subscription.status === 'canceled' || subscription.cancelAt === null || subscription.cancelAt > now) continue;
    subscription.status = 'canceled';
    subscription.endedAt = subscription.cancelAt;
  }
}

/** date-fns' Duration, named from `add` (its index would load every function). */
type Duration = NonNullable<Parameters<typeof add>[1]>;

const DURATION_UNIT: Record<Interval, keyof Duration> = { day: 'days', week: 'weeks', month: 'months', year: 'years' };

/** The end of the item's current period: the trial's end while trialing, else the first interval boundary after now. */
function periodEnd(state: StripeState, subscription: SubscriptionRecord, item: SubscriptionItemRecord): number {
  if (subscription.trialEnd !== null && subscription.trialEnd > nowSeconds()) return subscription.trialEnd;
  const recurring = state.prices.get(item.price)?.recurring;
  if (!recurring) return subscription.created;
  const anchor = fromUnixTime(subscription.trialEnd ?? subscription.created);
  const now = nowSeconds();
  for (let periods = 1; ; periods++) {
    const end = getUnixTime(add(anchor, { [DURATION_UNIT[recurring.interval]]: recurring.intervalCount * periods }));
    if (end > now || periods >= 10_000) return end;
  }
}

/** The subscription's current period end: its plan item's (the first), as classic billing keeps one period for all items. */
export function currentPeriodEnd(state: StripeState, subscription: SubscriptionRecord): number {
  const [first] = subscription.items;
  return first === undefined ? subscription.created : periodEnd(state, subscription, first);
}

export function renderSubscriptionItem(state: StripeState, subscription: SubscriptionRecord, item: SubscriptionItemRecord): Record<string, unknown> {
  const price = state.prices.get(item.price);
  return {
    id: item.id,
    object: 'subscription_item',
    created: item.created,
    current_period_start: subscription.created,
    current_period_end: periodEnd(state, subscription, item),
    metadata: {},
    price: price ? renderPrice(price) : item.price,
    quantity: item.quantity ?? undefined,
    subscription: subscription.id,
  };
}

export function renderSubscription(state: StripeState, subscription: SubscriptionRecord): Record<string, unknown> {
  const items = subscription.items.map((item) => renderSubscriptionItem(state, subscription, item));
  return {
    id: subscription.id,
    object: 'subscription',
    automatic_tax: { enabled: false, liability: null },
    billing_cycle_anchor: subscription.billingCycleAnchor,
    cancel_at: subscription.cancelAt,
    cancel_at_period_end: subscription.cancelAtPeriodEnd,
    canceled_at: subscription.canceledAt,
    cancellation_details: { comment: null, feedback: null, reason: subscription.canceledAt === null ? null : 'cancellation_requested' },
    collection_method: subscription.collectionMethod,
    created: subscription.created,
    currency: state.prices.get(subscription.items[0]?.price ?? '')?.currency ?? 'usd',
    customer: subscription.customer,
    days_until_due: subscription.daysUntilDue,
    default_payment_method: null,
    description: null,
    ended_at: subscription.endedAt,
    items: { object: 'list', data: items, has_more: false, url: `/v1/subscription_items?subscription=${subscription.id}` },
    latest_invoice: null,
    livemode: false,
    metadata: subscription.metadata,
    start_date: subscription.created,
    status: subscription.status,
    trial_end: subscription.trialEnd,
    trial_start: subscription.trialStart,
  };
}

export function retrieveSubscription(state: StripeState, id: string): unknown {
  const subscription = state.subscriptions.get(id);
  if (subscription === undefined) throw StripeFakeError.notFound('subscription', id);
  return renderSubscription(state, subscription);
}

export function cancelSubscription(state: StripeState, id: string, params: FormObject): unknown {
  allowOnly(params, ['invoice_now', 'prorate', 'cancellation_details', 'expand']);
  const subscription = state.subscriptions.get(id);
  if (subscription === undefined || subscription.status === 'canceled') throw StripeFakeError.notFound('subscription', id);
  cancelSubscriptionRecord(subscription);
  return renderSubscription(state, subscription);
}

/** Without `status`, Stripe lists the subscriptions that are not canceled; `status=all` lists every one. */
export function listSubscriptions(state: StripeState, params: FormObject): unknown {
  allowOnly(params, ['customer', 'status', 'price', 'limit', 'starting_after', 'collection_method', 'expand']);
  const customer = optionalText(params, 'customer');
  const status = optionalText(params, 'status');
  const price = optionalText(params, 'price');
  const selected = [...state.subscriptions.values()].filter(
    (subscription) =>
      (customer === undefined || subscription.customer === customer) &&
      (price === undefined || subscription.items.some((item) => item.price === price)) &&
      (status === 'all' || (status === undefined ? subscription.status !== 'canceled' : subscription.status === status)),
  );
  return listPage(selected, params, '/v1/subscriptions', (subscription) => renderSubscription(state, subscription));
}
