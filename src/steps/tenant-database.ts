/**
 * Creates where a tenant's data lives: its own database (dedicated plans) or
 * its prefixed collections in the shared database, each with the current
 * schema as validator where the server supports one, and a unique index on
 * `key`. The seed and feature-flags steps then fill these collections.
 */
import { z } from 'zod';
import type { Db } from 'mongodb';
import { PermanentError } from '../domain/errors.ts';
import { databaseNameSchema, isolationSchema, tenantIdSchema } from './tenant-data/layout.ts';
import { existingCollections, NAMESPACE_EXISTS, NAMESPACE_NOT_FOUND, NOT_IMPLEMENTED, serverCode, tenantDb } from './tenant-data/mongo.ts';
import { planTenantData, type CollectionPlan, type TenantDataPlan } from './tenant-data/plan.ts';
import { defineStep, type StepContext } from './step.ts';

const input = z.strictObject({
  tenantId: tenantIdSchema,
  database: databaseNameSchema,
  isolation: isolationSchema,
  /** Report what would be created and write nothing. */
  dryRun: z.boolean().default(false),
});
type Input = z.output<typeof input>;

/** Every database call of this step: connected first, its failure named for the audit trail. */
function withTenantDb<T>(ctx: StepContext<Input>, doing: string, work: () => Promise<T>): Promise<T> {
  return tenantDb(doing, work, ctx.services.tenantData);
}

/** Who checks documents against the schema: the server's validator, or the provisioner before writing. */
type SchemaEnforcement = 'server' | 'provisioner';

function databaseOf(ctx: StepContext<Input>, plan: TenantDataPlan): Db {
  return ctx.services.tenantData.db(plan.dbName);
}

/**
 * Creates each missing collection, with its validator when the server takes
 * one. FerretDB answers NotImplemented to validators: from then on this run
 * creates plain collections and the seed step's own check is the only guard.
 */
async function createCollections(db: Db, collections: readonly CollectionPlan[], existing: ReadonlyMap<string, boolean>): Promise<void> {
  let validatorsSupported = true;
  for (const collection of collections) {
    if (existing.has(collection.name)) continue;
    if (validatorsSupported) {
      const outcome = await createOne(db, collection.name, { $jsonSchema: collection.schema });
      if (outcome !== 'not-implemented') continue;
      validatorsSupported = false;
    }
    await createOne(db, collection.name, undefined);
  }
}

async function createOne(db: Db, name: string, validator: { $jsonSchema: object } | undefined): Promise<'created' | 'not-implemented'> {
  try {
    await db.createCollection(name, validator === undefined ? {} : { validator, validationLevel: 'strict', validationAction: 'error' });
    return 'created';
  } catch (err) {
    const code = serverCode(err);
    // A collection left by an earlier attempt is exactly what we wanted.
    if (code === NAMESPACE_EXISTS) return 'created';
    if (code === NOT_IMPLEMENTED && validator !== undefined) return 'not-implemented';
    throw err;
  }
}

async function createKeyIndexes(db: Db, collections: readonly CollectionPlan[]): Promise<void> {
  for (const collection of collections.filter((c) => c.uniqueKey)) {
    // Same name and spec on every run, so the server treats a repeat as a no-op.
    await db.collection(collection.name).createIndex({ key: 1 }, { unique: true, name: 'key_unique' });
  }
}

function enforcement(plan: TenantDataPlan, existing: ReadonlyMap<string, boolean>): SchemaEnforcement {
  return plan.collections.every((c) => existing.get(c.name) === true) ? 'server' : 'provisioner';
}

/** Collections a dedicated database holds that this layout does not explain: never drop those. */
function foreignCollections(plan: TenantDataPlan, existing: ReadonlyMap<string, boolean>): string[] {
  const ours = new Set(plan.collections.map((c) => c.name));
  return [...existing.keys()].filter((name) => !ours.has(name) && !name.startsWith('system.'));
}

async function dropSharedCollections(db: Db, plan: TenantDataPlan, existing: ReadonlyMap<string, boolean>): Promise<void> {
  for (const collection of plan.collections.filter((c) => existing.has(c.name))) {
    try {
      await db.collection(collection.name).drop();
    } catch (err) {
      if (serverCode(err) !== NAMESPACE_NOT_FOUND) throw err;
    }
  }
}

export const tenantDatabaseStep = defineStep({
  type: 'tenant_database',
  description: "Creates the tenant's database (dedicated) or its prefixed collections in the shared database, with schema and unique key indexes.",
  facts: { database: 'Database' },
  input,
  async run(ctx) {
    const plan = planTenantData(ctx.input);
    const db = databaseOf(ctx, plan);
    const existing = await withTenantDb(ctx, `listing the collections of ${plan.dbName}`, () => existingCollections(db));
    if (ctx.input.dryRun) {
      const wouldCreate = plan.collections.filter((c) => !existing.has(c.name)).map((c) => c.name);
      return { status: 'done', outputs: { dryRun: true, database: plan.dbName, isolation: plan.isolation, wouldCreate } };
    }
    await withTenantDb(ctx, `creating the collections of ${ctx.input.tenantId} in ${plan.dbName}`, async () => {
      await createCollections(db, plan.collections, existing);
      await createKeyIndexes(db, plan.collections);
    });
    const created = await withTenantDb(ctx, `listing the collections of ${plan.dbName}`, () => existingCollections(db));
    return {
      status: 'done',
      outputs: {
        database: plan.dbName,
        isolation: plan.isolation,
        collections: plan.collections.map((c) => c.name),
        schemaEnforcedBy: enforcement(plan, created),
      },
    };
  },
  async check(ctx) {
    // A dry run created nothing, so there is nothing to find.
    if (ctx.input.dryRun) return { status: 'done' };
    const plan = planTenantData(ctx.input);
    const existing = await withTenantDb(ctx, `listing the collections of ${plan.dbName}`, () => existingCollections(databaseOf(ctx, plan)));
    const missing = plan.collections.filter((c) => !existing.has(c.name)).map((c) => c.name);
    if (missing.length > 0) return { status: 'missing', reason: `database ${plan.dbName} lacks collection(s) ${missing.join(', ')}` };
    return { status: 'done' };
  },
  async rollback(ctx) {
    if (ctx.input.dryRun) return;
    const plan = planTenantData(ctx.input);
    const db = databaseOf(ctx, plan);
    const existing = await withTenantDb(ctx, `listing the collections of ${plan.dbName}`, () => existingCollections(db));
    if (existing.size === 0) return;
    if (plan.isolation === 'shared') {
      await withTenantDb(ctx, `dropping the collections of ${ctx.input.tenantId}`, () => dropSharedCollections(db, plan, existing));
      return;
    }
    const foreign = foreignCollections(plan, existing);
    if (foreign.length > 0) {
      throw new PermanentError(
        `Refusing to drop database ${plan.dbName}: it holds collections provisioning did not create (${foreign.join(', ')}). ` +
          'Check that this tenant really is dedicated and that the database name is right, then remove it by hand.',
      );
    }
    await withTenantDb(ctx, `dropping database ${plan.dbName}`, () => db.dropDatabase());
  },
  plan(cfg) {
    const data = planTenantData(cfg);
    if (cfg.dryRun)
      return { summary: `Dry run: report which collections of ${cfg.tenantId} are missing in ${data.dbName}; write nothing`, resources: [] };
    const collections = data.collections.map((c) => ({
      system: 'MongoDB',
      kind: 'collection',
      name: c.name,
      place: `database ${data.dbName}`,
      settings: c.uniqueKey ? ['current schema', 'unique index on key'] : ['current schema'],
      unknown: [],
    }));
    if (cfg.isolation === 'shared') {
      return {
        summary: `Create ${collections.length} collections for ${cfg.tenantId} in the shared database ${data.dbName}`,
        resources: collections,
      };
    }
    const database = { system: 'MongoDB', kind: 'database', name: data.dbName, settings: ['dedicated to this tenant'], unknown: [] };
    return { summary: `Create the dedicated database ${data.dbName} with ${collections.length} collections`, resources: [database, ...collections] };
  },
  describe(cfg, outputs) {
    if (cfg.dryRun) {
      const count = Array.isArray(outputs['wouldCreate']) ? outputs['wouldCreate'].length : 0;
      return `Dry run: would create ${count} collection(s) for ${cfg.tenantId} in database ${cfg.database}`;
    }
    if (cfg.isolation === 'dedicated') return `Database ${cfg.database} created for ${cfg.tenantId}`;
    return `Collections for ${cfg.tenantId} created in shared database ${cfg.database}`;
  },
});
