/**
 * How a billing provider's features become our flags and limits
 * (manifests/billing-features.yaml). Stripe's entitlement features are on/off,
 * named by their lookup_key; Bunny's features are codes that carry either an
 * on/off value or a quantity. Each maps onto one flag or one limit of
 * plans.yaml, checked at load so a typo stops the bot instead of a tenant
 * silently losing a feature it pays for.
 */
import { z } from 'zod';
import { FlagNameSchema, LimitNameSchema } from './plan.ts';

/** Stripe lookup keys and Bunny codes: short printable identifiers. */
const FeatureCodeSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$/, {
  error: 'Feature codes are letters, digits and _ . : - (at most 80, starting with a letter or digit)',
});

const TargetSchema = z
  .strictObject({ flag: FlagNameSchema.optional(), limit: LimitNameSchema.optional() })
  .refine((target) => (target.flag === undefined) !== (target.limit === undefined), {
    error: 'name exactly one of flag (an on/off feature) or limit (a quantity)',
  });

export type FeatureTarget = { flag: string; limit?: undefined } | { limit: string; flag?: undefined };

export const BillingFeaturesSchema = z.strictObject({
  version: z.literal(1),
  stripe: z
    .strictObject({
      /** Stripe Entitlements feature lookup_key → the flag it switches on. */
      features: z.record(FeatureCodeSchema, z.strictObject({ flag: FlagNameSchema })).default({}),
      /** The limit a subscription item's quantity sets (per-seat prices), if any. */
      quantityLimit: LimitNameSchema.optional(),
    })
    .prefault({}),
  bunny: z
    .strictObject({
      /** Bunny feature code → the flag or limit it sets. */
      features: z.record(FeatureCodeSchema, TargetSchema).default({}),
    })
    .prefault({}),
});

export type BillingFeatures = z.output<typeof BillingFeaturesSchema>;

/** No mapping at all: only plans decide (a deployment without billing-features.yaml). */
export const NO_BILLING_FEATURES: BillingFeatures = { version: 1, stripe: { features: {} }, bunny: { features: {} } };

type Issue = { path: (string | number)[]; message: string };

/** Every flag and limit the map names must exist in plans.yaml. */
export function checkBillingFeatures(map: BillingFeatures, catalogue: { flags: readonly string[]; limits: readonly string[] }): Issue[] {
  const issues: Issue[] = [];
  const flag = (path: (string | number)[], name: string) => {
    if (!catalogue.flags.includes(name))
      issues.push({ path, message: `unknown feature flag "${name}" (plans.yaml featureFlags has: ${catalogue.flags.join(', ')})` });
  };
  const limit = (path: (string | number)[], name: string) => {
    if (!catalogue.limits.includes(name))
      issues.push({ path, message: `unknown limit "${name}" (plans.yaml tenantLimits has: ${catalogue.limits.join(', ')})` });
  };
  for (const [code, target] of Object.entries(map.stripe.features)) flag(['stripe', 'features', code, 'flag'], target.flag);
  if (map.stripe.quantityLimit !== undefined) limit(['stripe', 'quantityLimit'], map.stripe.quantityLimit);
  for (const [code, target] of Object.entries(map.bunny.features)) {
    if (target.flag !== undefined) flag(['bunny', 'features', code, 'flag'], target.flag);
    if (target.limit !== undefined) limit(['bunny', 'features', code, 'limit'], target.limit);
  }
  return issues;
}

/** One feature as a provider states it: on or off, and a quantity where it has one. */
export type ProviderFeature = { code: string; enabled: boolean; quantity?: number | undefined };

export type MappedFeatures = {
  features: Record<string, boolean>;
  limits: Record<string, number>;
  /** Codes the map does not know: reported, never guessed. */
  unmapped: string[];
};

/**
 * The flags and limits a provider's complete feature list means. A mapped flag
 * whose feature is absent or disabled is off: the list is everything the
 * customer is entitled to. A limit feature without a quantity sets nothing.
 */
export function mapProviderFeatures(
  stated: readonly ProviderFeature[],
  map: Readonly<Record<string, { flag?: string; limit?: string }>>,
): MappedFeatures {
  const mapped: MappedFeatures = { features: {}, limits: {}, unmapped: [] };
  for (const target of Object.values(map)) if (target.flag !== undefined) mapped.features[target.flag] = false;
  for (const feature of stated) {
    const target = Object.hasOwn(map, feature.code) ? map[feature.code] : undefined;
    if (!target) {
      mapped.unmapped.push(feature.code);
    } else if (target.flag !== undefined) {
      mapped.features[target.flag] = (mapped.features[target.flag] ?? false) || feature.enabled;
    } else if (target.limit !== undefined && feature.enabled && feature.quantity !== undefined) {
      mapped.limits[target.limit] = feature.quantity;
    }
  }
  mapped.unmapped.sort();
  return mapped;
}
