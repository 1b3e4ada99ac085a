/**
 * Finding what already exists in Stripe before creating anything: the
 * tenant's customer (by metadata, through search), its live subscriptions,
 * the usage meters and the prices the plan names.
 */
import type Stripe from 'stripe';
import { PermanentError } from '../../domain/errors.ts';
import { isResourceMissing } from './errors.ts';

/** Metadata that ties a Stripe object to the tenant, and to the job that created it (rollback removes only its own). */
export const TENANT_KEY = 'tenant_id';
export const JOB_KEY = 'provisioning_job_id';

/** Subscriptions in these states bill nobody and cannot come back. */
const ENDED: ReadonlySet<Stripe.Subscription.Status> = new Set(['canceled', 'incomplete_expired']);

export function isLive(subscription: Stripe.Subscription): boolean {
  return !ENDED.has(subscription.status);
}

function quoted(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * The tenant's customers, oldest first. Search outlives Stripe's 24-hour
 * idempotency keys, but lags writes by up to a minute: the creating call's
 * idempotency key covers that window.
 */
export async function findTenantCustomers(stripe: Stripe, tenantId: string): Promise<Stripe.Customer[]> {
  const customers: Stripe.Customer[] = [];
  for await (const customer of stripe.customers.search({ query: `metadata['${TENANT_KEY}']:${quoted(tenantId)}`, limit: 100 })) {
    customers.push(customer);
  }
  return customers.sort((a, b) => a.created - b.created);
}

/** The customer's subscriptions that still bill (or will, after a trial), oldest first. */
export async function findLiveSubscriptions(stripe: Stripe, customerId: string): Promise<Stripe.Subscription[]> {
  const live: Stripe.Subscription[] = [];
  for await (const subscription of stripe.subscriptions.list({ customer: customerId, limit: 100 })) {
    if (isLive(subscription)) live.push(subscription);
  }
  return live.sort((a, b) => a.created - b.created);
}

function displayNameFor(eventName: string): string {
  const words = eventName.replaceAll(/[_.-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Creates the usage meters that do not exist yet. Meters are shared by every
 * tenant (usage events name the customer), so rollback never removes them;
 * the key depends only on the event name, so two jobs racing create one.
 */
export async function ensureMeters(stripe: Stripe, eventNames: readonly string[]): Promise<void> {
  if (eventNames.length === 0) return;
  const existing = new Set<string>();
  for await (const meter of stripe.billing.meters.list({ status: 'active', limit: 100 })) existing.add(meter.event_name);
  for (const eventName of eventNames.filter((name) => !existing.has(name))) {
    await stripe.billing.meters.create(
      { display_name: displayNameFor(eventName), event_name: eventName, default_aggregation: { formula: 'sum' } },
      { idempotencyKey: `billing-meter.${eventName}` },
    );
  }
}

export type PlanPrices = { planPriceId: string; meteredPriceIds: string[] };

const LOOKUP_KEYS_PER_CALL = 10;

/**
 * The plan's price (a lookup key, else taken as a price id and checked by
 * Stripe when subscribing) and one metered price per meter, whose lookup key
 * is the meter's event name.
 */
export async function resolvePrices(stripe: Stripe, priceRef: string, meters: readonly string[]): Promise<PlanPrices> {
  const keys = [priceRef, ...meters];
  const byKey = new Map<string, Stripe.Price>();
  for (let start = 0; start < keys.length; start += LOOKUP_KEYS_PER_CALL) {
    const page = await stripe.prices.list({ lookup_keys: keys.slice(start, start + LOOKUP_KEYS_PER_CALL), active: true, limit: 100 });
    for (const price of page.data) if (price.lookup_key !== null) byKey.set(price.lookup_key, price);
  }
  const meteredPriceIds = meters.map((meter) => {
    const price = byKey.get(meter);
    if (price === undefined) {
      throw new PermanentError(
        `Stripe has no active price with lookup key '${meter}' for usage meter ${meter}; create a metered price with that lookup key in Stripe, or remove ${meter} from billing.meters in manifests/plans.yaml`,
      );
    }
    if (price.recurring?.usage_type !== 'metered') {
      throw new PermanentError(`Stripe price ${price.id} (lookup key '${meter}') is not metered; usage meter ${meter} needs a metered price`);
    }
    return price.id;
  });
  return { planPriceId: byKey.get(priceRef)?.id ?? (await planPriceById(stripe, priceRef)), meteredPriceIds };
}

/** priceRef is not a lookup key: it must be a price id, checked now so a typo fails before any customer exists. */
async function planPriceById(stripe: Stripe, priceRef: string): Promise<string> {
  try {
    const price = await stripe.prices.retrieve(priceRef);
    if (!price.active)
      throw new PermanentError(`Stripe price '${priceRef}' is archived; point billing.priceRef in manifests/plans.yaml at an active price`);
    return price.id;
  } catch (err) {
    if (!isResourceMissing(err)) throw err;
    throw new PermanentError(
      `Stripe has no price '${priceRef}' (neither a lookup key nor a price id); check billing.priceRef in manifests/plans.yaml`,
    );
  }
}
