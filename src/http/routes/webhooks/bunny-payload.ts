/**
 * Bunny's TenantProvisioningChange as our one entitlements event: a pure
 * mapping beside the route. The tenant is `payload.tenant.code` (our slug);
 * subscriptions and features may sit under `payload.change` or directly under
 * `payload`, and a feature comes in either of the two shapes Bunny documents:
 * `{code, value, quantity}` (present = entitled; quantity null for on/off) or
 * `{code, enabled, value}` (value the quantity).
 *
 * Order: Bunny sends no event id or sequence in the default envelope. The
 * version is the payload's own timestamp (`timestamp`/`updatedAt`, envelope or
 * payload) or the newest `updatedAt` of its subscriptions; only when Bunny
 * states none is the receive time used, and the report says so. The dedupe key
 * is the payload's id when it has one, else a digest of the body: a retry of
 * the same delivery carries the same bytes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { mapProviderFeatures, type ProviderFeature } from '../../../domain/billing-features.ts';
import type { EntitlementsEvent, SubscriptionState } from '../../../domain/entitlements.ts';
import { providerId, safeText } from './text.ts';

export type BunnyMapping = {
  isPlan(planId: string): boolean;
  features: Readonly<Record<string, { flag?: string | undefined; limit?: string | undefined }>>;
};

export type BunnyMapped =
  | { kind: 'event'; event: EntitlementsEvent; unmapped: string[]; versionFrom: 'payload' | 'received' }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; problems: string[] };

const When = z.union([safeText(64).min(1), z.number()]).nullish();
const Id = z.union([providerId, z.number().int()]).nullish();

/** A quantity sets a limit (seats, gigabytes): a count, never below nothing. */
const Quantity = z.number().nonnegative();

const FeatureSchema = z.object({
  code: safeText(80).min(1),
  enabled: z.boolean().nullish(),
  value: z.union([Quantity, z.boolean(), safeText(500)]).nullish(),
  quantity: Quantity.nullish(),
});

const SubscriptionSchema = z.object({
  id: z.union([providerId, z.number().int()]).transform(String),
  state: safeText(40).min(1),
  plan: z.object({ code: safeText(100) }).nullish(),
  updatedAt: When,
  features: z.array(FeatureSchema).nullish(),
});

const Named = z.object({ name: safeText(500).nullish(), contacts: z.array(z.object({ email: safeText(320).nullish() })).nullish() }).nullish();

const ChangeSchema = z.object({ subscriptions: z.array(SubscriptionSchema).nullish(), features: z.array(FeatureSchema).nullish() });

const PayloadSchema = z.object({
  id: Id,
  timestamp: When,
  updatedAt: When,
  tenant: z.object({ code: safeText(100).min(1), name: safeText(500).nullish(), account: Named }),
  account: Named,
  change: ChangeSchema.nullish(),
  subscriptions: z.array(SubscriptionSchema).nullish(),
  features: z.array(FeatureSchema).nullish(),
});

const EnvelopeSchema = z.object({
  type: safeText(100),
  id: Id,
  timestamp: When,
  payload: z.unknown(),
});

const STATES: Readonly<Record<string, SubscriptionState>> = {
  trial: 'trialing',
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  unpaid: 'unpaid',
  paused: 'paused',
  suspended: 'paused',
  canceled: 'canceled',
  cancelled: 'canceled',
  expired: 'canceled',
  pending: 'incomplete',
};

/** Our state for Bunny's; undefined for one we do not know (a key like "constructor" is not one). */
const stateOf = (state: string): SubscriptionState | undefined => {
  const key = state.toLowerCase();
  return Object.hasOwn(STATES, key) ? STATES[key] : undefined;
};

const issuesOf = (error: z.ZodError, at: string) => error.issues.map((i) => `${[at, ...i.path.map(String)].join('.')}: ${i.message}`);

/** ISO text or epoch seconds/milliseconds, as ms; undefined when it is neither. */
function millis(value: string | number | null | undefined): number | undefined {
  if (typeof value === 'number') return value > 1e12 ? value : value * 1000;
  if (typeof value !== 'string') return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

function featureOf(feature: z.output<typeof FeatureSchema>): ProviderFeature {
  const quantity = feature.quantity ?? (typeof feature.value === 'number' ? feature.value : undefined);
  const enabled = feature.enabled ?? feature.value !== false;
  return { code: feature.code, enabled, quantity: quantity ?? undefined };
}

export function entitlementsOfBunnyPayload(raw: unknown, body: Buffer, mapping: BunnyMapping, receivedAt: number): BunnyMapped {
  const envelope = EnvelopeSchema.safeParse(raw);
  if (!envelope.success) return { kind: 'invalid', problems: issuesOf(envelope.error, 'body') };
  if (envelope.data.type !== 'TenantProvisioningChange')
    return { kind: 'ignored', reason: `Bunny event type ${envelope.data.type} is not one the provisioner follows` };
  const parsed = PayloadSchema.safeParse(envelope.data.payload);
  if (!parsed.success) return { kind: 'invalid', problems: issuesOf(parsed.error, 'payload') };
  const payload = parsed.data;
  const subscriptions = [...(payload.change?.subscriptions ?? []), ...(payload.subscriptions ?? [])];
  const unknownState = subscriptions.find((s) => stateOf(s.state) === undefined);
  if (unknownState) return { kind: 'invalid', problems: [`payload.subscriptions: unknown subscription state "${unknownState.state}"`] };
  const current = subscriptions.find((s) => ['trialing', 'active', 'past_due'].includes(stateOf(s.state) ?? '')) ?? subscriptions[0];
  const stated = [...(payload.change?.features ?? []), ...(payload.features ?? []), ...subscriptions.flatMap((s) => s.features ?? [])].map(featureOf);
  const mapped = mapProviderFeatures(stated, mapping.features);
  const planCode = current?.plan?.code;
  const planId = planCode !== undefined && mapping.isPlan(planCode) ? planCode : undefined;
  const state = current ? stateOf(current.state) : undefined;
  const stamped =
    millis(envelope.data.timestamp) ??
    millis(payload.timestamp) ??
    millis(payload.updatedAt) ??
    Math.max(-Infinity, ...subscriptions.flatMap((s) => millis(s.updatedAt) ?? []));
  const versionFrom = Number.isFinite(stamped) ? 'payload' : 'received';
  const company = payload.account?.name ?? payload.tenant.account?.name ?? payload.tenant.name ?? undefined;
  const adminEmail = [...(payload.tenant.account?.contacts ?? []), ...(payload.account?.contacts ?? [])].find((c) => c.email)?.email ?? undefined;
  const id = envelope.data.id ?? payload.id;
  const event: EntitlementsEvent = {
    source: 'bunny',
    sourceEventId: id !== undefined && id !== null ? String(id) : `sha256-${createHash('sha256').update(body).digest('hex').slice(0, 40)}`,
    sourceType: envelope.data.type,
    tenant: { slug: payload.tenant.code },
    version: { at: versionFrom === 'payload' ? stamped : receivedAt, rank: 0 },
    ...(current && state ? { subscription: { id: current.id, state, ...(planId ? { planId } : {}) } } : {}),
    features: mapped.features,
    limits: mapped.limits,
    facts: {
      ...(company ? { company } : {}),
      ...(planCode ? { plan: planCode } : {}),
      ...(state ? { subscriptionState: state } : {}),
      ...(adminEmail ? { adminEmail } : {}),
    },
  };
  return { kind: 'event', event, unmapped: mapped.unmapped, versionFrom };
}
