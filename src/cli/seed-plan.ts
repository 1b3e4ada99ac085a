/**
 * `provisioner seed-plan`: the dry run of a tenant's data for a platform
 * engineer: which database and collections a tenant on a plan gets, how many
 * seed records go in each, and whether the plan's seed still matches the
 * current schema. Reads no database and writes nothing.
 */
import { tenantDatabaseName, type TenantSettings } from '../domain/intake.ts';
import type { Manifests } from '../manifests/load.ts';
import { planNamed } from '../domain/plan.ts';
import { describeProblem, planTenantData } from '../steps/tenant-data/plan.ts';

export function seedPlanText(manifests: Manifests, settings: TenantSettings, planId: string, slug: string): { lines: string[]; ok: boolean } {
  // Own keys only: "constructor" or "toString" would find Object's, which is no plan.
  const plan = planNamed(manifests.plans, planId);
  if (!plan) return { lines: [`Unknown plan "${planId}"; choose one of: ${Object.keys(manifests.plans.plans).join(', ')}`], ok: false };
  const seed = manifests.seeds.get(plan.seedVersion);
  const data = planTenantData({
    tenantId: `tnt_${slug}`,
    database: tenantDatabaseName(slug, plan, settings),
    isolation: plan.isolation,
    ...(seed ? { seed } : {}),
  });
  const inserts = new Map<string, number>(data.inserts.map((insert) => [insert.collection, insert.documents.length]));
  const lines = [
    `Dry run for tenant "${slug}" on the ${planId} plan: nothing is written.`,
    `Database ${data.dbName} (${data.isolation === 'dedicated' ? "the tenant's own" : 'shared, collections prefixed per tenant'})`,
    ...data.collections.map((c) => {
      const records = inserts.get(c.collection);
      return `  ${c.name.padEnd(40)} ${records === undefined ? 'created empty' : `${records} seed records`}`;
    }),
    `Seed ${plan.seedVersion}: ${seed ? `${data.inserts.reduce((n, i) => n + i.documents.length, 0)} records` : 'NOT PUBLISHED'}`,
  ];
  if (data.problems.length > 0) lines.push(`It no longer matches the current schema:`, ...data.problems.map((p) => `  - ${describeProblem(p)}`));
  return { lines, ok: seed !== undefined && data.problems.length === 0 };
}
