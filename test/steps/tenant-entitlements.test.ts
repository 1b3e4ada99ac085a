/**
 * The tenant_entitlements step against a real MongoDB-wire server: billing's
 * entitlements written to the tenant_config record in one write, checked, and
 * on rollback the record put back exactly as the step found it.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StepContext } from '../../src/steps/step.ts';
import { tenantEntitlementsStep } from '../../src/steps/tenant-entitlements.ts';
import { serverUrl } from '../support/servers.ts';
import { stepContext } from '../support/step-context.ts';

type ConfigRecord = { _id: string; [field: string]: unknown };

const billing = { source: 'stripe', state: 'active', planId: 'growth', payment: 'paid', eventKey: 'stripe:evt_1' } as const;

describe('the tenant entitlements step applies what billing pays for', () => {
  let client: MongoClient;
  let dbName: string;
  let tenantId: string;
  let jobId: string;

  beforeAll(async () => {
    client = await new MongoClient(serverUrl('MONGODB_URI')).connect();
  });
  afterAll(() => client.close());
  beforeEach(() => {
    const suffix = randomBytes(4).toString('hex');
    dbName = `entitlements_test_${suffix}`;
    tenantId = `tnt_acme-${suffix}`;
    jobId = `acme-${suffix}-sync`;
  });
  afterEach(() => client.db(dbName).dropDatabase());

  const records = () => client.db(dbName).collection<ConfigRecord>(`${tenantId}__tenant_config`);
  const ctx = (outputs: Record<string, unknown> = {}): StepContext<unknown> =>
    stepContext({ jobId, stepId: 'entitlements', outputs, services: { tenantData: client } });
  const step = () =>
    tenantEntitlementsStep.bind({
      tenantId,
      database: dbName,
      isolation: 'shared',
      flags: { sso: true, audit_log: false },
      limits: { users: 100, storage_gb: 500 },
      billing,
    });

  it('writes flags, limits and billing state, says which flags are on, and checks as done', async () => {
    await records().insertOne({ _id: tenantId, features: { sso: false, audit_log: true }, limits: { users: 10 }, featuresUpdatedBy: 'provisioning' });
    const result = await step().run(ctx());
    expect(await records().findOne({ _id: tenantId })).toMatchObject({
      features: { sso: true, audit_log: false },
      limits: { users: 100, storage_gb: 500 },
      billing,
      entitlementsUpdatedBy: jobId,
    });
    expect(result).toMatchObject({ status: 'done', outputs: { on: ['sso'], off: ['audit_log'], state: 'active' } });
    expect(await step().check(ctx(result.outputs))).toEqual({ status: 'done' });
    expect(step().describe(result.outputs ?? {})).toBe(
      `Entitlements applied to ${tenantId} from stripe (active, growth): sso on; users 100, storage_gb 500`,
    );
  });

  it('rolls back to exactly what it found, and only its own write', async () => {
    await records().insertOne({ _id: tenantId, features: { sso: false, audit_log: true }, limits: { users: 10 } });
    const result = await step().run(ctx());
    await step().rollback(ctx(result.outputs));
    expect(await records().findOne({ _id: tenantId })).toEqual({
      _id: tenantId,
      features: { sso: false, audit_log: true },
      limits: { users: 10 },
      billing: null,
    });

    // A later job wrote since: not ours to undo.
    const again = await step().run(ctx());
    await records().updateOne({ _id: tenantId }, { $set: { entitlementsUpdatedBy: 'a-later-job', limits: { users: 7 } } });
    await step().rollback(ctx(again.outputs));
    expect(await records().findOne({ _id: tenantId })).toMatchObject({ limits: { users: 7 }, entitlementsUpdatedBy: 'a-later-job' });
  });

  it('check says missing when someone changed the limits by hand', async () => {
    const result = await step().run(ctx());
    await records().updateOne({ _id: tenantId }, { $set: { limits: { users: 5000 } } });
    expect(await step().check(ctx(result.outputs))).toEqual({ status: 'missing', reason: 'the limits differ from the entitlements' });
  });
});
