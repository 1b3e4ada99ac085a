/**
 * Stripe's events as our one entitlements event: a pure mapping beside the
 * route, so nothing past the door sees Stripe's shape. Only the fields used
 * are read, each checked: constructEvent proves who sent the bytes, not that
 * they hold what we expect.
 *
 * Order: Stripe gives no version on a subscription, and stamps events to the
 * second (`created`). The version is that second, then a rank for changes
 * stamped in the same second: a subscription is created before it is updated
 * (paused, resumed) and deleted last; a failed payment comes before the paid
 * invoice that settles it. Arrival order is never used.
 */
import { z } from 'zod';
import type { MappedFeatures } from '../../../domain/billing-features.ts';
import { mapProviderFeatures } from '../../../domain/billing-features.ts';
import { providerId, safeText } from './text.ts';
import { slugOfTenantId, type EntitlementsEvent, type SubscriptionState, type TenantRef } from '../../../domain/entitlements.ts';

export const STRIPE_EVENT_TYPES = [
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'entitlements.active_entitlement_summary.updated',
  'invoice.payment_failed',
  'invoice.paid',
] as const;

type StripeEventType = (typeof STRIPE_EVENT_TYPES)[number];

const RANK: Readonly<Record<StripeEventType, number>> = {
  'customer.subscription.created': 0,
  'customer.subscription.updated': 1,
  'customer.subscription.paused': 1,
  'customer.subscription.resumed': 1,
  'customer.subscription.deleted': 2,
  'entitlements.active_entitlement_summary.updated': 1,
  'invoice.payment_failed': 0,
  'invoice.paid': 1,
};

export type StripeMapping = {
  /** The plan whose billing.priceRef is this price id (or lookup key). */
  planOfPrice(price: string): string | undefined;
  features: Readonly<Record<string, { flag: string }>>;
  quantityLimit?: string | undefined;
};

export type StripeMapped =
  | { kind: 'event'; event: EntitlementsEvent; unmapped: string[] }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; problems: string[] };

const Metadata = z.record(z.string(), safeText(500)).nullish();
const Customer = z.union([providerId, z.object({ id: providerId }).transform((c) => c.id)]);

const EnvelopeSchema = z.object({
  id: providerId,
  type: safeText(100),
  created: z.number().int().nonnegative(),
  data: z.object({ object: z.unknown() }),
});

const SubscriptionSchema = z.object({
  id: providerId,
  customer: Customer,
  status: z.string(),
  /** Set when the subscription will cancel (at its period's end): until then it keeps its status. */
  cancel_at: z.number().int().nonnegative().nullish(),
  metadata: Metadata,
  items: z.object({
    data: z.array(
      z.object({
        quantity: z.number().int().nonnegative().nullish(),
        price: z.object({ id: safeText(255), lookup_key: safeText(255).nullish() }),
      }),
    ),
  }),
});

const SummarySchema = z.object({
  customer: Customer,
  entitlements: z.object({ data: z.array(z.object({ lookup_key: safeText(255) })) }),
});

const InvoiceSchema = z.object({
  customer: Customer,
  customer_name: safeText(500).nullish(),
  parent: z
    .object({
      subscription_details: z.object({ subscription: z.union([z.string(), z.object({ id: z.string() })]).nullish(), metadata: Metadata }).nullish(),
    })
    .nullish(),
});

const STATES: Readonly<Record<string, SubscriptionState>> = {
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  unpaid: 'unpaid',
  paused: 'paused',
  canceled: 'canceled',
  incomplete: 'incomplete',
  incomplete_expired: 'incomplete_expired',
};

const isHandled = (type: string): type is StripeEventType => (STRIPE_EVENT_TYPES as readonly string[]).includes(type);

const issuesOf = (error: z.ZodError, at: string) => error.issues.map((i) => `${[at, ...i.path.map(String)].join('.')}: ${i.message}`);

/** The tenant: our id in the object's metadata, else the billing customer (resolved against what we learnt). */
function tenantOf(metadata: Record<string, string> | null | undefined, customerId: string): TenantRef {
  const slug = slugOfTenantId(metadata?.['tenant_id'] ?? '');
  return slug ? { slug, customerId } : { customerId };
}

export function entitlementsOfStripeEvent(raw: unknown, mapping: StripeMapping): StripeMapped {
  const envelope = EnvelopeSchema.safeParse(raw);
  if (!envelope.success) return { kind: 'invalid', problems: issuesOf(envelope.error, 'event') };
  const { id, type, created, data } = envelope.data;
  if (!isHandled(type)) return { kind: 'ignored', reason: `event type ${type} is not one the provisioner follows` };
  const base = { source: 'stripe' as const, sourceEventId: id, sourceType: type, version: { at: created * 1000, rank: RANK[type] } };
  if (type.startsWith('customer.subscription.')) return fromSubscription(data.object, base, mapping);
  if (type === 'entitlements.active_entitlement_summary.updated') return fromSummary(data.object, base, mapping);
  return fromInvoice(data.object, base, type === 'invoice.paid' ? 'paid' : 'failed');
}

type Base = Pick<EntitlementsEvent, 'source' | 'sourceEventId' | 'sourceType' | 'version'>;

function fromSubscription(object: unknown, base: Base, mapping: StripeMapping): StripeMapped {
  const parsed = SubscriptionSchema.safeParse(object);
  if (!parsed.success) return { kind: 'invalid', problems: issuesOf(parsed.error, 'data.object') };
  const sub = parsed.data;
  const state = base.sourceType === 'customer.subscription.deleted' ? 'canceled' : Object.hasOwn(STATES, sub.status) ? STATES[sub.status] : undefined;
  if (!state) return { kind: 'invalid', problems: [`data.object.status: unknown subscription status "${sub.status}"`] };
  const planItem = sub.items.data.find((item) => planOf(item.price, mapping) !== undefined);
  const planId = planItem ? planOf(planItem.price, mapping) : undefined;
  const quantity = planItem?.quantity;
  const limits = mapping.quantityLimit && typeof quantity === 'number' && quantity > 0 ? { [mapping.quantityLimit]: quantity } : undefined;
  // Cancelling at the period's end is not a cancellation: the customer keeps what they paid for until then.
  const endsAt = state !== 'canceled' && typeof sub.cancel_at === 'number' ? sub.cancel_at * 1000 : undefined;
  const event: EntitlementsEvent = {
    ...base,
    tenant: tenantOf(sub.metadata, sub.customer),
    subscription: { id: sub.id, state, ...(planId ? { planId } : {}), ...(endsAt === undefined ? {} : { endsAt }) },
    ...(limits ? { limits } : {}),
    facts: { ...(planId ? { plan: planId } : {}), subscriptionState: state },
  };
  return { kind: 'event', event, unmapped: planItem ? [] : sub.items.data.map((item) => `price ${item.price.id}`) };
}

function planOf(price: { id: string; lookup_key?: string | null | undefined }, mapping: StripeMapping): string | undefined {
  return mapping.planOfPrice(price.id) ?? (price.lookup_key ? mapping.planOfPrice(price.lookup_key) : undefined);
}

function fromSummary(object: unknown, base: Base, mapping: StripeMapping): StripeMapped {
  const parsed = SummarySchema.safeParse(object);
  if (!parsed.success) return { kind: 'invalid', problems: issuesOf(parsed.error, 'data.object') };
  const mapped: MappedFeatures = mapProviderFeatures(
    parsed.data.entitlements.data.map((entitlement) => ({ code: entitlement.lookup_key, enabled: true })),
    mapping.features,
  );
  const event: EntitlementsEvent = { ...base, tenant: { customerId: parsed.data.customer }, features: mapped.features, facts: {} };
  return { kind: 'event', event, unmapped: mapped.unmapped };
}

function fromInvoice(object: unknown, base: Base, payment: 'paid' | 'failed'): StripeMapped {
  const parsed = InvoiceSchema.safeParse(object);
  if (!parsed.success) return { kind: 'invalid', problems: issuesOf(parsed.error, 'data.object') };
  const invoice = parsed.data;
  const event: EntitlementsEvent = {
    ...base,
    tenant: tenantOf(invoice.parent?.subscription_details?.metadata, invoice.customer),
    payment,
    facts: invoice.customer_name ? { company: invoice.customer_name } : {},
  };
  return { kind: 'event', event, unmapped: [] };
}
