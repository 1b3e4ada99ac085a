/**
 * The one internal billing event: "the entitlements of tenant X are now …".
 * Stripe and Bunny payloads are mapped onto it beside their webhook routes, so
 * nothing past the door sees a vendor's shape.
 *
 * An event may speak for only part of a tenant's billing (Stripe's entitlement
 * summary names features, an invoice only the payment); each part — the
 * subscription, the features, the limits, the payment — is kept from the
 * newest event that states it. Billing truth is therefore a pure fold over
 * the recorded events, whatever order they arrived in: an older event arriving
 * late never overwrites newer state, and a redelivery changes nothing.
 */
import { z } from 'zod';

export const BILLING_SOURCES = ['stripe', 'bunny'] as const;
export type BillingSource = (typeof BILLING_SOURCES)[number];

/** Subscription states in Stripe's words (Bunny's trial/active/canceled… are mapped onto them). */
export const SUBSCRIPTION_STATES = ['trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled', 'incomplete', 'incomplete_expired'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** States in which the customer is entitled to what the plan sells (past_due: still within the dunning period). */
const ENTITLED_STATES: ReadonlySet<SubscriptionState> = new Set(['trialing', 'active', 'past_due']);

export const isEntitledState = (state: SubscriptionState): boolean => ENTITLED_STATES.has(state);

/**
 * Where an event sits in the subscription's own history: when the provider
 * says the change happened (ms), then a rank that breaks ties between changes
 * stamped in the same instant (Stripe stamps events to the second). Arrival
 * order is never used.
 */
export type EventVersion = { at: number; rank: number };

export function compareVersions(a: EventVersion, b: EventVersion): number {
  return a.at - b.at || a.rank - b.rank;
}

/** How an event names its tenant: our slug (Bunny's tenant code, our id in Stripe metadata), the billing customer, or both. */
export type TenantRef = { slug: string; customerId?: string | undefined } | { customerId: string; slug?: undefined };

/** What people may read about the customer in #onboarding: business facts, never a secret. */
export type BusinessFacts = {
  company?: string;
  plan?: string;
  subscriptionState?: string;
  /** The customer's contact, only to provision an unknown tenant when configured; never posted. */
  adminEmail?: string;
};

export type EntitlementsEvent = {
  source: BillingSource;
  /** The provider's event id: the same delivery twice is one event. */
  sourceEventId: string;
  /** The provider's event type, for the audit trail (e.g. customer.subscription.updated). */
  sourceType: string;
  tenant: TenantRef;
  version: EventVersion;
  /**
   * The subscription as it now is, when this event states it. `endsAt` (ms): it is set to cancel then, at
   * its period's end, and stays in its state (active, trialing) until that moment.
   */
  subscription?: { id: string; state: SubscriptionState; planId?: string | undefined; endsAt?: number | undefined };
  /** Flags the provider's feature list switches on or off (only those it maps). */
  features?: Record<string, boolean>;
  /** Limits the provider sets (a seat quantity, a Bunny quantity feature). */
  limits?: Record<string, number>;
  payment?: 'failed' | 'paid';
  facts: BusinessFacts;
};

type Stated<T> = { value: T; version: EventVersion; eventId: string };

/** A tenant's billing as the newest event stating each part says it is. */
export type BillingTruth = {
  subscription?: Stated<NonNullable<EntitlementsEvent['subscription']>>;
  features?: Stated<Record<string, boolean>>;
  limits?: Stated<Record<string, number>>;
  payment?: Stated<'failed' | 'paid'>;
};

const PARTS = ['subscription', 'features', 'limits', 'payment'] as const;

/** Newer wins; on an exact tie the larger event id wins, so every order of the same events folds to the same truth. */
function newer(event: EntitlementsEvent, held: Stated<unknown> | undefined): boolean {
  if (!held) return true;
  const order = compareVersions(event.version, held.version);
  return order > 0 || (order === 0 && event.sourceEventId > held.eventId);
}

/** Folds one event into the truth; an event older than what is held for a part leaves that part alone. */
export function foldEvent(truth: BillingTruth, event: EntitlementsEvent): BillingTruth {
  const next: BillingTruth = { ...truth };
  for (const part of PARTS) {
    const value = event[part];
    if (value === undefined || !newer(event, truth[part])) continue;
    const stated = { version: event.version, eventId: event.sourceEventId };
    if (part === 'subscription' && event.subscription) next.subscription = { value: event.subscription, ...stated };
    if (part === 'features' && event.features) next.features = { value: event.features, ...stated };
    if (part === 'limits' && event.limits) next.limits = { value: event.limits, ...stated };
    if (part === 'payment' && event.payment) next.payment = { value: event.payment, ...stated };
  }
  return next;
}

export function billingTruth(events: readonly EntitlementsEvent[]): BillingTruth {
  return events.reduce(foldEvent, {});
}

/** What a tenant is entitled to: the flags and limits its billing pays for. */
export type Entitlements = {
  planId: string | undefined;
  state: SubscriptionState | undefined;
  flags: Record<string, boolean>;
  limits: Record<string, number>;
};

/** The plan catalogue as entitlements need it. */
export type PlanCatalogue = {
  flags: readonly string[];
  plan(planId: string): { features: Readonly<Record<string, boolean>>; limits: Readonly<Record<string, number>> } | undefined;
};

/**
 * The flags and limits billing pays for: the subscribed plan's (else the
 * tenant's own plan's), the negotiated per-deal overrides on top, then what
 * the provider's feature lists state. A subscription that is canceled, unpaid
 * or paused pays for no feature at all; its limits stay as they were sold.
 */
export function entitlementsOf(
  truth: BillingTruth,
  tenant: { planId: string; overrides: Readonly<Record<string, boolean>> },
  catalogue: PlanCatalogue,
): Entitlements {
  const planId = truth.subscription?.value.planId ?? tenant.planId;
  const plan = catalogue.plan(planId) ?? catalogue.plan(tenant.planId);
  const state = truth.subscription?.value.state;
  const flags: Record<string, boolean> = { ...plan?.features, ...tenant.overrides, ...truth.features?.value };
  const limits: Record<string, number> = { ...plan?.limits, ...truth.limits?.value };
  if (state !== undefined && !isEntitledState(state)) for (const flag of catalogue.flags) flags[flag] = false;
  return { planId, state, flags, limits };
}

/** The event as stored and read back: checked, so a hand-edited or older record cannot smuggle in another shape. */
export const EntitlementsEventSchema = z.object({
  source: z.enum(BILLING_SOURCES),
  sourceEventId: z.string().min(1),
  sourceType: z.string().min(1),
  tenant: z.union([z.object({ slug: z.string().min(1), customerId: z.string().min(1).optional() }), z.object({ customerId: z.string().min(1) })]),
  version: z.object({ at: z.number(), rank: z.number() }),
  subscription: z
    .object({ id: z.string(), state: z.enum(SUBSCRIPTION_STATES), planId: z.string().optional(), endsAt: z.number().optional() })
    .optional(),
  features: z.record(z.string(), z.boolean()).optional(),
  limits: z.record(z.string(), z.number().nonnegative()).optional(),
  payment: z.enum(['failed', 'paid']).optional(),
  facts: z.object({
    company: z.string().optional(),
    plan: z.string().optional(),
    subscriptionState: z.string().optional(),
    adminEmail: z.string().optional(),
  }),
});

/** The inbox key of an event: one per provider event id. */
export const eventKey = (event: Pick<EntitlementsEvent, 'source' | 'sourceEventId'>): string => `${event.source}:${event.sourceEventId}`;

/** Our tenant ids are "tnt_<slug>" (domain/intake deriveTenant); billing metadata carries them. */
export function slugOfTenantId(tenantId: string): string | undefined {
  return tenantId.startsWith('tnt_') && tenantId.length > 4 ? tenantId.slice(4) : undefined;
}
