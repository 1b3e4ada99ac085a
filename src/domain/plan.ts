// Plans: what a customer bought (features, limits, billing) and when a human
// must approve the provisioning before it runs. Loaded from manifests/plans.yaml.
import { z } from 'zod';

export const FlagNameSchema = z.string().regex(/^[a-z][a-z0-9_]{1,48}$/, {
  error: 'Feature flag names are lowercase snake_case, 2–49 characters, starting with a letter (e.g. audit_log)',
});

export const LimitNameSchema = z.string().regex(/^[a-z][a-z0-9_]{1,48}$/, {
  error: 'Limit names are lowercase snake_case, 2–49 characters, starting with a letter (e.g. storage_gb)',
});

export const PlanIdSchema = z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, {
  error: 'Plan ids are lowercase letters, digits and hyphens, 2–31 characters, starting with a letter (e.g. growth)',
});

const ApprovalRulesSchema = z.strictObject({
  contractValueAtLeast: z.number().nonnegative().optional(),
  requireForDataResidency: z.array(z.string().min(1)).optional(),
  always: z.boolean().default(false),
});

export const PlanSchema = z.strictObject({
  displayName: z.string().min(1),
  features: z.record(FlagNameSchema, z.boolean()),
  /** One value per limit in the tenantLimits catalogue (users, storage_gb, …). */
  limits: z.record(LimitNameSchema, z.number().positive()),
  billing: z.strictObject({
    priceRef: z.string().min(1),
    trialDays: z.int().nonnegative().default(0),
    meters: z.array(z.string().min(1)).default([]),
  }),
  isolation: z.enum(['shared', 'dedicated']),
  /** Where this plan's tenants may keep their data; absent: every residency of dataResidencies. */
  dataResidencies: z.array(z.string().min(1)).min(1).optional(),
  seedVersion: z.string().min(1),
  // prefault (not default) so the inner `always: false` default is applied too.
  approval: ApprovalRulesSchema.prefault({}),
  /** The tenant's storage bucket: object versions kept (versioning), and how long replaced versions stay. */
  storage: z
    .strictObject({
      versioning: z.boolean().default(false),
      noncurrentVersionDays: z.int().positive().max(3650).optional(),
    })
    .prefault({}),
});

export type Plan = z.output<typeof PlanSchema>;

/** An AWS region name such as eu-west-1 or us-gov-west-1. */
export const AwsRegionSchema = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, {
  error: (issue) => `"${String(issue.input)}" is not an AWS region name like eu-west-1`,
});

type ManifestIssue = { path: (string | number)[]; message: string };

/** Consistency rules inside plans.yaml that a per-field schema cannot express. */
export function checkPlansCatalogue(manifest: {
  featureFlags: Readonly<Record<string, unknown>>;
  tenantLimits: Readonly<Record<string, unknown>>;
  dataResidencies: readonly string[];
  defaultDataResidency: string;
  residencyRegions?: Readonly<Record<string, string>>;
  plans: Readonly<Record<string, Plan>>;
}): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const knownFlags = Object.keys(manifest.featureFlags);
  const knownRegions = manifest.dataResidencies;
  if (!knownRegions.includes(manifest.defaultDataResidency)) {
    issues.push({
      path: ['defaultDataResidency'],
      message: `"${manifest.defaultDataResidency}" is not one of dataResidencies (${knownRegions.join(', ')})`,
    });
  }
  issues.push(...residencyRegionIssues(manifest.dataResidencies, manifest.residencyRegions));
  for (const [planId, plan] of Object.entries(manifest.plans)) {
    for (const flag of Object.keys(plan.features)) {
      if (!knownFlags.includes(flag)) {
        issues.push({
          path: ['plans', planId, 'features', flag],
          message: `unknown feature flag "${flag}"; add it to featureFlags or use one of: ${knownFlags.join(', ')}`,
        });
      }
    }
    issues.push(...limitIssues(planId, plan, Object.keys(manifest.tenantLimits)));
    (plan.dataResidencies ?? []).forEach((residency, index) => {
      if (!knownRegions.includes(residency)) {
        issues.push({
          path: ['plans', planId, 'dataResidencies', index],
          message: `unknown data residency "${residency}" (known: ${knownRegions.join(', ')})`,
        });
      }
    });
    (plan.approval.requireForDataResidency ?? []).forEach((region, index) => {
      if (!knownRegions.includes(region)) {
        issues.push({
          path: ['plans', planId, 'approval', 'requireForDataResidency', index],
          message: `unknown data residency "${region}" (known: ${knownRegions.join(', ')})`,
        });
      }
    });
  }
  return issues;
}

/** A plan's limits name exactly the catalogue's limits: an unknown one is a typo, a missing one would leave drift blind. */
function limitIssues(planId: string, plan: Plan, knownLimits: readonly string[]): ManifestIssue[] {
  const unknown = Object.keys(plan.limits)
    .filter((name) => !knownLimits.includes(name))
    .map((name) => ({
      path: ['plans', planId, 'limits', name],
      message: `unknown limit "${name}"; add it to tenantLimits or use one of: ${knownLimits.join(', ')}`,
    }));
  const missing = knownLimits
    .filter((name) => !Object.hasOwn(plan.limits, name))
    .map((name) => ({ path: ['plans', planId, 'limits'], message: `missing the limit "${name}" (every plan sets each of tenantLimits)` }));
  return [...unknown, ...missing];
}

/** Every residency needs a region once regions are given, and every region a known residency. */
function residencyRegionIssues(residencies: readonly string[], regions: Readonly<Record<string, string>> | undefined): ManifestIssue[] {
  if (regions === undefined) return [];
  const missing = residencies
    .filter((residency) => !Object.hasOwn(regions, residency))
    .map((residency) => ({ path: ['residencyRegions'], message: `data residency "${residency}" has no AWS region; add ${residency}: <region>` }));
  const unknown = Object.keys(regions)
    .filter((residency) => !residencies.includes(residency))
    .map((residency) => ({
      path: ['residencyRegions', residency],
      message: `"${residency}" is not one of dataResidencies (${residencies.join(', ')})`,
    }));
  return [...missing, ...unknown];
}

export const PlansManifestSchema = z
  .strictObject({
    version: z.literal(1),
    featureFlags: z.record(FlagNameSchema, z.strictObject({ description: z.string().min(1) })),
    tenantLimits: z.record(LimitNameSchema, z.strictObject({ description: z.string().min(1) })),
    dataResidencies: z.array(z.string().regex(/^[a-z]{2,12}$/)).min(1),
    defaultDataResidency: z.string().min(1),
    /** The AWS region each data residency lives in: the tenant's bucket and certificate are created there. */
    residencyRegions: z.record(z.string(), AwsRegionSchema).optional(),
    plans: z.record(PlanIdSchema, PlanSchema),
  })
  .superRefine((manifest, ctx) => {
    for (const issue of checkPlansCatalogue(manifest)) {
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: manifest });
    }
  });

export type PlansManifest = z.output<typeof PlansManifestSchema>;

const formatAmount = (value: number): string => value.toLocaleString('en-US');

/** Plain-English reasons a person must approve this deal before provisioning; [] when none. */
export function approvalReasons(plan: Plan, deal: { contractValue: number; dataResidency: string }): string[] {
  const reasons: string[] = [];
  const { contractValueAtLeast, requireForDataResidency = [], always } = plan.approval;
  if (plan.isolation === 'dedicated') reasons.push('Plan uses a dedicated database');
  if (contractValueAtLeast !== undefined && deal.contractValue >= contractValueAtLeast) {
    reasons.push(`Contract value ${formatAmount(deal.contractValue)} is at or above the ${formatAmount(contractValueAtLeast)} approval threshold`);
  }
  if (requireForDataResidency.includes(deal.dataResidency)) {
    reasons.push(`Custom data residency: ${deal.dataResidency}`);
  }
  if (always) reasons.push('Plan always requires approval');
  return reasons;
}

/** The plan's features with the deal's per-tenant overrides applied on top. */
export function effectiveFeatures(plan: Plan, overrides: Readonly<Record<string, boolean>>): Record<string, boolean> {
  return { ...plan.features, ...overrides };
}

/** The plan's value for one limit, if it sets it. */
export function planLimit(plan: Plan, name: string): number | undefined {
  return Object.hasOwn(plan.limits, name) ? plan.limits[name] : undefined;
}

/**
 * The plan with this id, if the manifest has one. Plan ids are keys of a plain
 * object, so "constructor" or "toString" must not find Object's own members.
 */
export function planNamed(plans: Pick<PlansManifest, 'plans'>, id: string): Plan | undefined {
  return Object.hasOwn(plans.plans, id) ? plans.plans[id] : undefined;
}

/** Why the plan cannot keep data in `residency` (it is offered elsewhere only); undefined when it can. */
export function residencyProblem(plan: Plan, residency: string): string | undefined {
  const offered = plan.dataResidencies;
  if (offered === undefined || offered.includes(residency)) return undefined;
  return `the ${plan.displayName} plan keeps data in ${offered.join(', ')} only, not ${residency}; choose one of those or another plan`;
}
