/**
 * Loads the plan's seed data (roles, permission sets, workflow templates,
 * reference data) into the collections the tenant_database step created.
 * Every document is checked against the current schema before the first
 * write, so a seed the product has outgrown stops here, not halfway.
 * Documents carry ids `<collection>:<key>`: a re-run inserts only what is
 * missing and never duplicates (FerretDB has no transactions to lean on).
 */
import { z } from 'zod';
import type { Db } from 'mongodb';
import { PermanentError } from '../domain/errors.ts';
import type { SeedManifest } from '../manifests/seed.ts';
import { databaseNameSchema, isolationSchema, SEEDED_COLLECTIONS, tenantIdSchema, tenantLayout } from './tenant-data/layout.ts';
import { existingCollections, onlyDuplicates, tenantDb } from './tenant-data/mongo.ts';
import { outdatedSeedMessage, planTenantData, type InsertPlan, type SeedDocument, type TenantDataPlan } from './tenant-data/plan.ts';
import { defineStep, type StepContext } from './step.ts';

const input = z.strictObject({
  tenantId: tenantIdSchema,
  database: databaseNameSchema,
  isolation: isolationSchema,
  seedVersion: z.string().min(1, { error: 'seedVersion names a published seed, e.g. 2026.11.0' }),
  /** Report how many records would be inserted and write nothing. */
  dryRun: z.boolean().default(false),
});
type Input = z.output<typeof input>;
const countsSchema = z.record(z.string(), z.number());

/** Every database call of this step: connected first, its failure named for the audit trail. */
function withTenantDb<T>(ctx: StepContext<Input>, doing: string, work: () => Promise<T>): Promise<T> {
  return tenantDb(doing, work, ctx.services.tenantData);
}

/** The seed data plan for this tenant, or why it cannot be loaded (unpublished or outdated seed). */
function seedPlan(input: Input, seeds: ReadonlyMap<string, SeedManifest>): TenantDataPlan | string {
  const seed = seeds.get(input.seedVersion);
  if (seed === undefined) {
    const available = [...seeds.keys()].sort().join(', ') || 'none';
    return `Seed version "${input.seedVersion}" is not published (available: ${available}). Point plans.yaml at one of them, or add seed-manifests/${input.seedVersion}.yaml.`;
  }
  const plan = planTenantData({ ...input, seed });
  return plan.problems.length > 0 ? outdatedSeedMessage(input.seedVersion, plan.problems) : plan;
}

/** The plan for this tenant; refuses, before any write, a seed that is missing or fails the current schema. */
function checkedPlan(ctx: StepContext<Input>): TenantDataPlan {
  const plan = seedPlan(ctx.input, ctx.services.seeds);
  if (typeof plan === 'string') throw new PermanentError(plan);
  return plan;
}

const idsOf = (insert: InsertPlan): string[] => insert.documents.map((doc) => doc._id);

/** How many of the planned documents are already there, from this seed version. */
async function loadedCount(db: Db, insert: InsertPlan, seedVersion: string): Promise<number> {
  return db.collection<SeedDocument>(insert.name).countDocuments({ _id: { $in: idsOf(insert) }, seedVersion });
}

/** Inserts what is missing; documents already there (E11000 on their `_id`) count as loaded. */
async function insertMissing(db: Db, insert: InsertPlan): Promise<number> {
  if (insert.documents.length === 0) return 0;
  try {
    const result = await db.collection<SeedDocument>(insert.name).insertMany(insert.documents, { ordered: false });
    return result.insertedCount;
  } catch (err) {
    if (onlyDuplicates(err)) return err.insertedCount;
    throw err;
  }
}

async function requireCollections(db: Db, plan: TenantDataPlan): Promise<void> {
  const existing = await existingCollections(db);
  const missing = plan.inserts.filter((insert) => !existing.has(insert.name)).map((insert) => insert.name);
  if (missing.length > 0) {
    throw new PermanentError(
      `Database ${plan.dbName} lacks collection(s) ${missing.join(', ')}; the tenant_database step must run before the seed is loaded.`,
    );
  }
}

/**
 * A tenant is seeded once and its data is never overwritten: records under our ids from another
 * seed version would otherwise survive as "already loaded". Checked for every collection before any write.
 */
async function refuseOtherVersions(ctx: StepContext<Input>, plan: TenantDataPlan, db: Db): Promise<void> {
  const seedVersion = ctx.input.seedVersion;
  for (const insert of plan.inserts) {
    const other = await db.collection<SeedDocument>(insert.name).countDocuments({ _id: { $in: idsOf(insert) }, seedVersion: { $ne: seedVersion } });
    if (other > 0) {
      throw new PermanentError(
        `${insert.collection} of ${ctx.input.tenantId} already holds ${other} record(s) from another seed version, ` +
          `so seed ${seedVersion} was not loaded over them. Roll back the tenant's data first, or keep its current seed.`,
      );
    }
  }
}

async function load(ctx: StepContext<Input>, plan: TenantDataPlan, db: Db): Promise<Record<string, number>> {
  await requireCollections(db, plan);
  await refuseOtherVersions(ctx, plan, db);
  const inserted: Record<string, number> = {};
  for (const insert of plan.inserts) inserted[insert.collection] = await insertMissing(db, insert);
  return inserted;
}

function counts(plan: TenantDataPlan, count: (insert: InsertPlan) => number): Record<string, number> {
  return Object.fromEntries(plan.inserts.map((insert) => [insert.collection, count(insert)]));
}

export const tenantSeedStep = defineStep({
  type: 'tenant_seed',
  description:
    "Loads the plan's seed data (roles, permission sets, workflow templates, reference data) after checking it against the current schema.",
  input,
  // At startup, for every plan: the same refusal a tenant would meet, before anyone sells that plan.
  crossCheck(cfg, facts) {
    const plan = seedPlan(cfg, facts.seeds);
    return typeof plan === 'string' ? [plan] : [];
  },
  async run(ctx) {
    const plan = checkedPlan(ctx);
    const db = ctx.services.tenantData.db(plan.dbName);
    const seedVersion = ctx.input.seedVersion;
    if (ctx.input.dryRun) {
      const present = new Map<string, number>();
      await withTenantDb(ctx, `counting the seed data of ${ctx.input.tenantId}`, async () => {
        for (const insert of plan.inserts) present.set(insert.collection, await loadedCount(db, insert, seedVersion));
      });
      const wouldInsert = counts(plan, (insert) => insert.documents.length - (present.get(insert.collection) ?? 0));
      return { status: 'done', outputs: { dryRun: true, seedVersion, database: plan.dbName, wouldInsert } };
    }
    const inserted = await withTenantDb(ctx, `loading seed ${seedVersion} for ${ctx.input.tenantId}`, () => load(ctx, plan, db));
    const loaded = counts(plan, (insert) => insert.documents.length);
    return { status: 'done', outputs: { seedVersion, database: plan.dbName, counts: loaded, inserted } };
  },
  async check(ctx) {
    if (ctx.input.dryRun) return { status: 'done' };
    const plan = seedPlan(ctx.input, ctx.services.seeds);
    if (typeof plan === 'string') return { status: 'missing', reason: plan };
    const db = ctx.services.tenantData.db(plan.dbName);
    for (const insert of plan.inserts) {
      const loaded = await withTenantDb(ctx, `counting ${insert.name}`, () => loadedCount(db, insert, ctx.input.seedVersion));
      if (loaded !== insert.documents.length) {
        return {
          status: 'missing',
          reason: `${insert.name} holds ${loaded} of the ${insert.documents.length} records of seed ${ctx.input.seedVersion}`,
        };
      }
    }
    return { status: 'done' };
  },
  async rollback(ctx) {
    if (ctx.input.dryRun) return;
    // By what every seeded document records, not by the manifest: this works even if the seed
    // version was since removed. The tenant_database rollback then drops the emptied collections.
    const layout = tenantLayout(ctx.input);
    const db = ctx.services.tenantData.db(layout.dbName);
    const filter = { tenantId: ctx.input.tenantId, seedVersion: ctx.input.seedVersion };
    await withTenantDb(ctx, `removing seed ${ctx.input.seedVersion} from ${ctx.input.tenantId}`, async () => {
      for (const collection of SEEDED_COLLECTIONS) await db.collection(layout.collections[collection]).deleteMany(filter);
    });
  },
  plan(cfg, context) {
    const plan = seedPlan(cfg, context.seeds);
    if (typeof plan === 'string') return { summary: `Will fail before writing anything: ${plan}`, resources: [] };
    const total = plan.inserts.reduce((sum, insert) => sum + insert.documents.length, 0);
    const verb = cfg.dryRun ? 'Dry run: count, without writing,' : 'Load';
    const resources = cfg.dryRun
      ? []
      : plan.inserts.map((insert) => ({
          system: 'MongoDB',
          kind: 'seed records',
          name: insert.name,
          place: `database ${plan.dbName}`,
          settings: [`${insert.documents.length} records from seed ${cfg.seedVersion}`],
          unknown: [],
        }));
    return { summary: `${verb} ${total} seed records from seed ${cfg.seedVersion} into ${plan.dbName}`, resources };
  },
  describe(cfg, outputs) {
    if (cfg.dryRun) return `Dry run: seed ${cfg.seedVersion} checked for ${cfg.tenantId}; nothing written`;
    const loaded = countsSchema.safeParse(outputs['counts']);
    const total = loaded.success ? Object.values(loaded.data).reduce((sum, n) => sum + n, 0) : 0;
    return `Seed data ${cfg.seedVersion} loaded for ${cfg.tenantId} in ${cfg.database} (${total} records)`;
  },
});
