/**
 * The tenant_database step against a real MongoDB-wire server (FerretDB at
 * $MONGODB_URI). Every test works in databases named with a random suffix
 * and drops them at the end, so files run side by side.
 */
import net from 'node:net';
import { MongoClient } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import type { Outputs } from '../../src/steps/step.ts';
import { tenantConfigCollection } from '../../src/steps/tenant-data/layout.ts';
import { tenantDatabaseStep } from '../../src/steps/tenant-database.ts';
import { databasesPerTest, serverUrl } from '../support/servers.ts';
import { CLOSED_PORT, stepContext } from '../support/step-context.ts';

const ALL = ['permission_sets', 'reference_data', 'roles', 'tenant_config', 'workflow_templates'];

const databases = databasesPerTest();
const uniqueName = databases.uniqueName;
let client: MongoClient;
let isFerretDb = false;

beforeAll(async () => {
  client = databases.client();
  const info = await client.db('admin').command({ buildInfo: 1 });
  isFerretDb = 'ferretdbVersion' in info;
});

type StepInput = { tenantId: string; database: string; isolation: 'dedicated' | 'shared'; dryRun?: boolean };

function step(input: StepInput, services = { tenantData: client }) {
  const bound = tenantDatabaseStep.bind(input);
  const ctx = (outputs: Outputs = {}) => stepContext({ stepId: 'database', services, outputs });
  return {
    run: (outputs?: Outputs) => bound.run(ctx(outputs)),
    check: (outputs?: Outputs) => bound.check(ctx(outputs)),
    rollback: (outputs?: Outputs) => bound.rollback(ctx(outputs)),
    describe: (outputs: Outputs) => bound.describe(outputs),
  };
}

async function collectionNames(database: string): Promise<string[]> {
  const found = await client.db(database).listCollections({}, { nameOnly: true }).toArray();
  return found.map((c) => c.name).sort();
}

async function databaseNames(): Promise<string[]> {
  const { databases } = await client.db('admin').admin().listDatabases();
  return databases.map((d) => d.name).sort();
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A TCP relay to the test server, standing in for a database that comes back after an outage. */
async function forwardToServer(port: number): Promise<net.Server> {
  const target = new URL(serverUrl('MONGODB_URI'));
  const relay = net.createServer((socket) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
  return relay;
}

describe('a dedicated tenant gets its own database', () => {
  it('creates the five collections with a unique key index, and check finds them', async () => {
    const database = uniqueName('tenant_dedicated');
    const tenant = step({ tenantId: 'tnt_globex', database, isolation: 'dedicated' });

    const result = await tenant.run();

    expect(result.status).toBe('done');
    expect(await collectionNames(database)).toEqual(ALL);
    const indexes = await client.db(database).collection('roles').listIndexes().toArray();
    expect(indexes.find((index) => index.name === 'key_unique')).toMatchObject({ key: { key: 1 }, unique: true });
    const outputs = result.outputs ?? {};
    expect(outputs).toMatchObject({ database, isolation: 'dedicated' });
    // FerretDB refuses collection validators, so the provisioner checks documents itself.
    expect(outputs['schemaEnforcedBy']).toBe(isFerretDb ? 'provisioner' : 'server');
    expect(await tenant.check(outputs)).toEqual({ status: 'done' });
    expect(tenant.describe(outputs)).toBe(`Database ${database} created for tnt_globex`);
  });

  it('running again, even with no recorded outputs, creates nothing twice', async () => {
    const database = uniqueName('tenant_rerun');
    const tenant = step({ tenantId: 'tnt_initech', database, isolation: 'dedicated' });

    await tenant.run();
    const again = await tenant.run({});

    expect(again.status).toBe('done');
    expect(await collectionNames(database)).toEqual(ALL);
    const indexes = await client.db(database).collection('permission_sets').listIndexes().toArray();
    expect(indexes.map((index) => index.name).sort()).toEqual(['_id_', 'key_unique']);
  });

  it('rolling back drops the database, and rolling back again is fine', async () => {
    const database = uniqueName('tenant_rollback');
    const tenant = step({ tenantId: 'tnt_umbrella', database, isolation: 'dedicated' });
    const { outputs } = await tenant.run();

    await tenant.rollback(outputs);
    expect(await databaseNames()).not.toContain(database);
    await tenant.rollback({});
    expect(await databaseNames()).not.toContain(database);
  });

  it('refuses to drop a "dedicated" database that holds collections provisioning did not create', async () => {
    const database = uniqueName('tenant_foreign');
    await client.db(database).collection<{ _id: string }>('invoices').insertOne({ _id: 'kept' });
    const tenant = step({ tenantId: 'tnt_hooli', database, isolation: 'dedicated' });
    await tenant.run();

    const rollback = tenant.rollback();

    await expect(rollback).rejects.toBeInstanceOf(PermanentError);
    await expect(rollback).rejects.toThrow(/Refusing to drop database .*invoices/);
    expect(await client.db(database).collection('invoices').countDocuments()).toBe(1);
  });

  it('check reports the database as missing after a collection is dropped out of band', async () => {
    const database = uniqueName('tenant_drift');
    const tenant = step({ tenantId: 'tnt_vandelay', database, isolation: 'dedicated' });
    const { outputs } = await tenant.run();

    await client.db(database).collection('workflow_templates').drop();

    expect(await tenant.check(outputs)).toEqual({ status: 'missing', reason: `database ${database} lacks collection(s) workflow_templates` });
  });
});

describe('shared tenants get prefixed collections in the shared database', () => {
  it("creates only the tenant's own collections, and two tenants live side by side", async () => {
    const database = uniqueName('tenants_shared');
    const acme = step({ tenantId: 'tnt_acme', database, isolation: 'shared' });
    const initech = step({ tenantId: 'tnt_initech-co', database, isolation: 'shared' });

    await acme.run();
    await initech.run();

    const names = await collectionNames(database);
    expect(names).toEqual([...ALL.map((c) => `tnt_acme__${c}`), ...ALL.map((c) => `tnt_initech-co__${c}`)].sort());
    expect(tenantConfigCollection(database, 'shared', 'tnt_acme')).toEqual({ dbName: database, collectionName: 'tnt_acme__tenant_config' });
    expect(await acme.check()).toEqual({ status: 'done' });
    expect(await initech.check()).toEqual({ status: 'done' });
  });

  it('rolling back one tenant leaves the other untouched', async () => {
    const database = uniqueName('tenants_shared');
    const acme = step({ tenantId: 'tnt_acme', database, isolation: 'shared' });
    const globex = step({ tenantId: 'tnt_globex', database, isolation: 'shared' });
    await acme.run();
    await globex.run();
    await client.db(database).collection<{ _id: string; key: string }>('tnt_globex__roles').insertOne({ _id: 'roles:owner', key: 'owner' });

    await acme.rollback();
    await acme.rollback();

    expect(await collectionNames(database)).toEqual(ALL.map((c) => `tnt_globex__${c}`).sort());
    expect(await client.db(database).collection('tnt_globex__roles').countDocuments()).toBe(1);
    expect(await acme.check()).toMatchObject({ status: 'missing' });
    expect(await globex.check()).toEqual({ status: 'done' });
  });
});

describe('a dry run shows what would be created and writes nothing', () => {
  it('lists the collections it would create; no database or collection appears', async () => {
    const database = uniqueName('tenant_dryrun');
    const tenant = step({ tenantId: 'tnt_wayne', database, isolation: 'dedicated', dryRun: true });

    const result = await tenant.run();

    expect(result).toEqual({
      status: 'done',
      outputs: {
        dryRun: true,
        database,
        isolation: 'dedicated',
        wouldCreate: ['roles', 'permission_sets', 'workflow_templates', 'reference_data', 'tenant_config'],
      },
    });
    // Only this test's database is asserted on: other test files create databases in parallel.
    expect(await databaseNames()).not.toContain(database);
    expect(await collectionNames(database)).toEqual([]);
    expect(tenant.describe(result.outputs ?? {})).toBe(`Dry run: would create 5 collection(s) for tnt_wayne in database ${database}`);
  });

  it('in a shared database, names only the collections still missing', async () => {
    const database = uniqueName('tenants_shared');
    await client.db(database).createCollection('tnt_stark__roles');
    const before = await collectionNames(database);

    const result = await step({ tenantId: 'tnt_stark', database, isolation: 'shared', dryRun: true }).run();

    expect(result.outputs?.['wouldCreate']).toEqual([
      'tnt_stark__permission_sets',
      'tnt_stark__workflow_templates',
      'tnt_stark__reference_data',
      'tnt_stark__tenant_config',
    ]);
    expect(await collectionNames(database)).toEqual(before);
  });
});

describe('failures are named so the engine knows whether to retry', () => {
  it('an unreachable server is a transient error', async () => {
    const closed = new MongoClient(`mongodb://127.0.0.1:${CLOSED_PORT}/`, { serverSelectionTimeoutMS: 300 });
    try {
      const tenant = step({ tenantId: 'tnt_acme', database: 'tenant_unreachable', isolation: 'dedicated' }, { tenantData: closed });
      const run = tenant.run();
      await expect(run).rejects.toBeInstanceOf(TransientError);
      await expect(run).rejects.toThrow(/tenant database server unreachable/);
      await expect(tenant.rollback()).rejects.toBeInstanceOf(TransientError);
    } finally {
      await closed.close();
    }
  });

  it('after an outage, the next attempt succeeds with the same client', async () => {
    const database = uniqueName('tenant_outage');
    const port = await freePort();
    const flaky = new MongoClient(`mongodb://127.0.0.1:${port}/`, { serverSelectionTimeoutMS: 300 });
    const tenant = step({ tenantId: 'tnt_acme', database, isolation: 'dedicated' }, { tenantData: flaky });
    let proxy: net.Server | undefined;
    try {
      await expect(tenant.run()).rejects.toBeInstanceOf(TransientError);
      proxy = await forwardToServer(port);

      // The driver stays "closed" after a failed connect unless the step reconnects.
      expect((await tenant.run()).status).toBe('done');
      expect(await collectionNames(database)).toEqual(ALL);
    } finally {
      await flaky.close();
      proxy?.close();
    }
  });

  it('a tenant id that would blur the tenant prefix is refused before anything runs', () => {
    expect(() => tenantDatabaseStep.bind({ tenantId: 'tnt__acme', database: 'tenants_shared', isolation: 'shared' })).toThrow(
      /tenantId may not contain/,
    );
    expect(() => tenantDatabaseStep.bind({ tenantId: 'tnt_acme', database: 'admin', isolation: 'dedicated' })).toThrow(/reserved by the server/);
  });
});
