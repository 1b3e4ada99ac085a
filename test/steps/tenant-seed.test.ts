/**
 * The tenant_seed step against a real MongoDB-wire server (FerretDB at
 * $MONGODB_URI), after the tenant_database step made the collections. Seeds
 * are the published manifests plus an outdated fixture, loaded the way the
 * bot loads them. Every test uses its own randomly named databases.
 */
import { readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { parseManifestText } from '../../src/manifests/load.ts';
import { SeedManifestSchema, type SeedManifest } from '../../src/manifests/seed.ts';
import type { Outputs } from '../../src/steps/step.ts';
import { outdatedSeedMessage, planTenantData, seedDocuments } from '../../src/steps/tenant-data/plan.ts';
import { validateAgainstSchema } from '../../src/steps/tenant-data/json-schema.ts';
import { CURRENT_SCHEMA } from '../../src/steps/tenant-data/schema.ts';
import { tenantDatabaseStep } from '../../src/steps/tenant-database.ts';
import { tenantSeedStep } from '../../src/steps/tenant-seed.ts';
import { databasesPerTest } from '../support/servers.ts';
import { CLOSED_PORT, stepContext } from '../support/step-context.ts';

function loadSeed(file: string): SeedManifest {
  const parsed = parseManifestText(file, readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'), SeedManifestSchema);
  if (parsed.value === undefined) throw new Error(`${file}: ${JSON.stringify(parsed.problems)}`);
  return parsed.value;
}

const PUBLISHED = ['seed-manifests/2026.06.0.yaml', 'seed-manifests/2026.11.0.yaml'].map(loadSeed);
const OUTDATED = loadSeed('test/fixtures/seed-outdated/2025.09.0.yaml');
const SEEDS: ReadonlyMap<string, SeedManifest> = new Map([...PUBLISHED, OUTDATED].map((seed) => [seed.version, seed]));
const NOVEMBER = '2026.11.0';
const NOVEMBER_COUNTS = { roles: 4, permission_sets: 5, workflow_templates: 2, reference_data: 2 };

const databases = databasesPerTest();
const uniqueName = databases.uniqueName;
let client: MongoClient;

beforeAll(() => {
  client = databases.client();
});

type Tenant = { tenantId: string; database: string; isolation: 'dedicated' | 'shared' };

function steps(tenant: Tenant, opts: { seedVersion?: string; dryRun?: boolean; tenantData?: MongoClient } = {}) {
  const services = { tenantData: opts.tenantData ?? client, seeds: SEEDS };
  const ctx = (outputs: Outputs = {}) => stepContext({ stepId: 'seed_data', services, outputs });
  const seed = tenantSeedStep.bind({ ...tenant, seedVersion: opts.seedVersion ?? NOVEMBER, dryRun: opts.dryRun });
  const database = tenantDatabaseStep.bind(tenant);
  return {
    createDatabase: () => database.run(ctx()),
    dropDatabase: () => database.rollback(ctx()),
    run: (outputs?: Outputs) => seed.run(ctx(outputs)),
    check: (outputs?: Outputs) => seed.check(ctx(outputs)),
    rollback: (outputs?: Outputs) => seed.rollback(ctx(outputs)),
    describe: (outputs: Outputs) => seed.describe(outputs),
  };
}

/** Documents per logical collection, read from the server. */
async function countsIn(tenant: Tenant): Promise<Record<string, number>> {
  const prefix = tenant.isolation === 'shared' ? `${tenant.tenantId}__` : '';
  const counts: Record<string, number> = {};
  for (const collection of Object.keys(NOVEMBER_COUNTS)) {
    counts[collection] = await client.db(tenant.database).collection(`${prefix}${collection}`).countDocuments();
  }
  return counts;
}

describe('the current schema and the published seeds', () => {
  it('every published seed matches the current schema', () => {
    for (const seed of PUBLISHED) {
      const plan = planTenantData({ tenantId: 'tnt_acme', database: 'tenants_shared', isolation: 'shared', seed });
      expect(plan.problems, seed.version).toEqual([]);
    }
  });

  it('plans collections and documents without a database', () => {
    const seed = SEEDS.get(NOVEMBER);
    const plan = planTenantData({ tenantId: 'tnt_acme', database: 'tenants_shared', isolation: 'shared', seed });

    expect(plan.collections.map((c) => c.name)).toContain('tnt_acme__tenant_config');
    expect(Object.fromEntries(plan.inserts.map((i) => [i.collection, i.documents.length]))).toEqual(NOVEMBER_COUNTS);
    expect(plan.inserts[0]?.documents[0]).toEqual({
      _id: 'roles:owner',
      key: 'owner',
      tenantId: 'tnt_acme',
      seedVersion: NOVEMBER,
      name: 'Owner',
      permissions: expect.arrayContaining(['workspace:delete']),
    });
  });

  it('the outdated fixture fails on the record and the field at fault', () => {
    const plan = planTenantData({ tenantId: 'tnt_acme', database: 'tenant_acme', isolation: 'dedicated', seed: OUTDATED });

    expect(plan.problems.map((p) => [p.collection, p.recordKey, p.problem])).toEqual([
      ['roles', 'viewer', 'field "permissions[1]" has "reports.view", which is not in the required form'],
      ['permission_sets', 'reporting', 'field "permissions[0]" has "reports.view", which is not in the required form'],
    ]);
  });

  it('a document missing a field the application reads is named with that field', () => {
    const [role] = seedDocuments(PUBLISHED[0] ?? OUTDATED, 'tnt_acme').roles;
    const { name: _dropped, ...withoutName } = role ?? { _id: '', key: '' };

    expect(validateAgainstSchema(withoutName, CURRENT_SCHEMA.roles)).toEqual([
      { field: 'name', problem: 'is missing "name"', why: 'the admin console shows every record by its name, in at most 80 characters' },
    ]);
  });
  it('names every other kind of problem a person may have to fix', () => {
    const template = { _id: 'workflow_templates:audit', key: 'audit', tenantId: 'tnt_acme', seedVersion: NOVEMBER, name: 42, steps: [] };
    const role = {
      _id: 'roles:admin',
      key: 'admin',
      tenantId: 'tnt_acme',
      seedVersion: NOVEMBER,
      name: 'Admin',
      permissions: ['a:b', 'a:b'],
      description: 'x',
    };

    expect(validateAgainstSchema(template, CURRENT_SCHEMA.workflow_templates).map((v) => v.problem)).toEqual([
      'field "name" must be text',
      'field "steps" is empty',
    ]);
    expect(validateAgainstSchema(role, CURRENT_SCHEMA.roles).map((v) => v.problem)).toEqual([
      'field "permissions" lists "a:b" twice',
      'has field "description", which the current schema does not know',
    ]);
  });

  it('an outdated seed message shows three problems and counts the rest', () => {
    const problem = { collection: 'roles' as const, recordKey: 'viewer', field: 'name', problem: 'is missing "name"' };

    expect(outdatedSeedMessage('2025.01.0', [problem, problem, problem, problem, problem])).toBe(
      'Seed 2025.01.0 no longer matches the current schema: roles "viewer" is missing "name"; roles "viewer" is missing "name"; ' +
        'roles "viewer" is missing "name"; and 2 more. Publish a new seed version and point plans.yaml at it.',
    );
  });
});

describe('a dedicated tenant receives the seed in its own database', () => {
  it('loads every record once, and check confirms the counts', async () => {
    const tenant: Tenant = { tenantId: 'tnt_globex', database: uniqueName('tenant_seed'), isolation: 'dedicated' };
    const s = steps(tenant);
    await s.createDatabase();

    const result = await s.run();

    expect(result).toEqual({
      status: 'done',
      outputs: { seedVersion: NOVEMBER, database: tenant.database, counts: NOVEMBER_COUNTS, inserted: NOVEMBER_COUNTS },
    });
    expect(await countsIn(tenant)).toEqual(NOVEMBER_COUNTS);
    expect(await s.check(result.outputs)).toEqual({ status: 'done' });
    expect(s.describe(result.outputs ?? {})).toBe(`Seed data ${NOVEMBER} loaded for tnt_globex in ${tenant.database} (13 records)`);
  });

  it('running twice, even with no recorded outputs, duplicates nothing', async () => {
    const tenant: Tenant = { tenantId: 'tnt_initech', database: uniqueName('tenant_seed_twice'), isolation: 'dedicated' };
    const s = steps(tenant);
    await s.createDatabase();
    await s.run();
    // A crash between the inserts and the engine recording success: half of the roles are gone again.
    await client
      .db(tenant.database)
      .collection('roles')
      .deleteMany({ key: { $in: ['member', 'viewer'] } });

    const again = await s.run({});

    expect(again.outputs?.['inserted']).toEqual({ roles: 2, permission_sets: 0, workflow_templates: 0, reference_data: 0 });
    expect(await countsIn(tenant)).toEqual(NOVEMBER_COUNTS);
  });

  it('rollback removes the seeded records, twice is fine, and the database rollback leaves nothing', async () => {
    const tenant: Tenant = { tenantId: 'tnt_umbrella', database: uniqueName('tenant_seed_rollback'), isolation: 'dedicated' };
    const s = steps(tenant);
    await s.createDatabase();
    const { outputs } = await s.run();

    await s.rollback(outputs);
    await s.rollback({});
    expect(await countsIn(tenant)).toEqual({ roles: 0, permission_sets: 0, workflow_templates: 0, reference_data: 0 });
    await s.dropDatabase();

    const { databases } = await client.db('admin').admin().listDatabases();
    expect(databases.map((d) => d.name)).not.toContain(tenant.database);
  });

  it('check reports missing records after they are deleted out of band', async () => {
    const tenant: Tenant = { tenantId: 'tnt_vandelay', database: uniqueName('tenant_seed_drift'), isolation: 'dedicated' };
    const s = steps(tenant);
    await s.createDatabase();
    const { outputs } = await s.run();

    await client.db(tenant.database).collection<{ _id: string }>('reference_data').deleteOne({ _id: 'reference_data:currencies' });

    expect(await s.check(outputs)).toEqual({ status: 'missing', reason: `reference_data holds 1 of the 2 records of seed ${NOVEMBER}` });
  });

  it('refuses to load a second seed version over records of another', async () => {
    const tenant: Tenant = { tenantId: 'tnt_hooli', database: uniqueName('tenant_seed_versions'), isolation: 'dedicated' };
    await steps(tenant).createDatabase();
    await steps(tenant, { seedVersion: '2026.06.0' }).run();

    const run = steps(tenant).run();

    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow(/roles of tnt_hooli already holds 4 record\(s\) from another seed version/);
    expect(await countsIn(tenant)).toEqual({ roles: 4, permission_sets: 3, workflow_templates: 2, reference_data: 2 });
  });
});

describe('shared tenants receive the seed in their own prefixed collections', () => {
  it('two tenants side by side keep separate records, and rolling one back leaves the other', async () => {
    const database = uniqueName('tenants_shared');
    const acme: Tenant = { tenantId: 'tnt_acme', database, isolation: 'shared' };
    const globex: Tenant = { tenantId: 'tnt_globex', database, isolation: 'shared' };
    const june = steps(acme, { seedVersion: '2026.06.0' });
    const november = steps(globex);
    for (const s of [june, november]) await s.createDatabase();

    await june.run();
    await november.run();

    expect(await countsIn(acme)).toEqual({ roles: 4, permission_sets: 3, workflow_templates: 2, reference_data: 2 });
    expect(await countsIn(globex)).toEqual(NOVEMBER_COUNTS);

    await june.rollback();
    await june.dropDatabase();

    const left = await client.db(database).listCollections({}, { nameOnly: true }).toArray();
    expect(left.every((c) => c.name.startsWith('tnt_globex__'))).toBe(true);
    expect(await countsIn(globex)).toEqual(NOVEMBER_COUNTS);
    expect(await november.check()).toEqual({ status: 'done' });
  });
});

describe('nothing is written when it should not be', () => {
  it('a dry run reports the counts it would insert and writes nothing', async () => {
    const tenant: Tenant = { tenantId: 'tnt_wayne', database: uniqueName('tenant_seed_dry'), isolation: 'dedicated' };
    await steps(tenant).createDatabase();
    const s = steps(tenant, { dryRun: true });

    const result = await s.run();

    expect(result).toEqual({
      status: 'done',
      outputs: { dryRun: true, seedVersion: NOVEMBER, database: tenant.database, wouldInsert: NOVEMBER_COUNTS },
    });
    expect(await countsIn(tenant)).toEqual({ roles: 0, permission_sets: 0, workflow_templates: 0, reference_data: 0 });
  });

  it('a dry run with no database yet creates none', async () => {
    const tenant: Tenant = { tenantId: 'tnt_stark', database: uniqueName('tenant_seed_dry_nodb'), isolation: 'shared' };

    const result = await steps(tenant, { dryRun: true }).run();

    expect(result.outputs?.['wouldInsert']).toEqual(NOVEMBER_COUNTS);
    // Only this test's database name is asserted on: other test files create databases in parallel.
    const after = (await client.db('admin').admin().listDatabases()).databases.map((d) => d.name);
    expect(after).not.toContain(tenant.database);
  });

  it('an outdated seed fails before any write, naming the seed, record and field', async () => {
    const tenant: Tenant = { tenantId: 'tnt_legacy', database: uniqueName('tenant_seed_outdated'), isolation: 'dedicated' };
    await steps(tenant).createDatabase();

    const run = steps(tenant, { seedVersion: '2025.09.0' }).run();

    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow(
      'Seed 2025.09.0 no longer matches the current schema: roles "viewer" field "permissions[1]" has "reports.view", which is not in the required form ' +
        '(permissions are written resource:action, e.g. records:read; the application stopped reading the older resource.action form in 2026.06.0); ' +
        'permission_sets "reporting" field "permissions[0]" has "reports.view", which is not in the required form',
    );
    await expect(run).rejects.toThrow(/Publish a new seed version and point plans.yaml at it\.$/);
    expect(await countsIn(tenant)).toEqual({ roles: 0, permission_sets: 0, workflow_templates: 0, reference_data: 0 });
  });

  it('an unknown seed version names the versions that exist', async () => {
    const tenant: Tenant = { tenantId: 'tnt_acme', database: uniqueName('tenant_seed_unknown'), isolation: 'dedicated' };

    const run = steps(tenant, { seedVersion: '2027.01.0' }).run();

    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow('Seed version "2027.01.0" is not published (available: 2025.09.0, 2026.06.0, 2026.11.0)');
  });

  it('seeding before the database step ran is refused, not silently creating collections', async () => {
    const tenant: Tenant = { tenantId: 'tnt_early', database: uniqueName('tenant_seed_early'), isolation: 'shared' };

    await expect(steps(tenant).run()).rejects.toThrow(/lacks collection\(s\) tnt_early__roles, .*tenant_database step must run before/);
  });

  it('an unreachable server is a transient error', async () => {
    const closed = new MongoClient(`mongodb://127.0.0.1:${CLOSED_PORT}/`, { serverSelectionTimeoutMS: 300 });
    try {
      const s = steps({ tenantId: 'tnt_acme', database: 'tenant_unreachable', isolation: 'dedicated' }, { tenantData: closed });
      await expect(s.run()).rejects.toBeInstanceOf(TransientError);
      await expect(s.check()).rejects.toBeInstanceOf(TransientError);
      await expect(s.rollback()).rejects.toThrow(/tenant database server unreachable/);
    } finally {
      await closed.close();
    }
  });
});
