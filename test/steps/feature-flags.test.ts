/**
 * The feature flags step against a real MongoDB-wire server (FerretDB at
 * $MONGODB_URI): each test gets its own database, dropped afterwards, and
 * asserts on the tenant_config record as the server holds it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { PlansManifestSchema, effectiveFeatures } from '../../src/domain/plan.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../../src/domain/signature.ts';
import { featureFlagsStep } from '../../src/steps/feature-flags.ts';
import type { StepContext } from '../../src/steps/step.ts';
import { serverUrl } from '../support/servers.ts';
import { CLOSED_PORT, stepContext } from '../support/step-context.ts';

const SECRET = 'test-webhook-secret-0123456789';
const plans = PlansManifestSchema.parse(YAML.parse(readFileSync('manifests/plans.yaml', 'utf8')));

function growthPlan() {
  const plan = plans.plans['growth'];
  if (plan === undefined) throw new Error('manifests/plans.yaml has no growth plan');
  return plan;
}

/** The growth plan with one deal override switched on, as the intake would produce. */
const dealFlags = effectiveFeatures(growthPlan(), { advanced_analytics: true });

/** A tenant_config record as the test sees it: any fields, keyed by tenant id. */
type ConfigRecord = { _id: string; [field: string]: unknown };

describe('the feature flags step switches on what the customer bought', () => {
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
    dbName = `flags_test_${suffix}`;
    tenantId = `tnt_acme-${suffix}`;
    jobId = `acme-${suffix}`;
  });
  afterEach(() => client.db(dbName).dropDatabase());

  function ctx(outputs: Record<string, unknown> = {}, tenantData: MongoClient = client): StepContext<unknown> {
    return stepContext({ jobId, stepId: 'feature_flags', outputs, services: { tenantData, webhookSigningSecret: SECRET } });
  }

  function sharedStep(extra: Record<string, unknown> = {}) {
    return featureFlagsStep.bind({ tenantId, database: dbName, isolation: 'shared', flags: dealFlags, ...extra });
  }

  const sharedRecords = () => client.db(dbName).collection<ConfigRecord>(`${tenantId}__tenant_config`);

  it('writes exactly the plan flags with the deal overrides into the tenant config record', async () => {
    const step = sharedStep();
    const result = await step.run(ctx());

    const record = await sharedRecords().findOne({ _id: tenantId });
    expect(record).toEqual({ _id: tenantId, features: dealFlags, featuresUpdatedBy: jobId });
    expect(dealFlags['advanced_analytics']).toBe(true);
    const enabled = Object.keys(dealFlags)
      .filter((flag) => dealFlags[flag])
      .sort();
    expect(result).toEqual({
      status: 'done',
      outputs: { database: dbName, applied: Object.keys(dealFlags).length, enabled, unknownFlags: [] },
    });
    expect(await step.check(ctx(result.outputs))).toEqual({ status: 'done' });
    expect(step.describe(result.outputs ?? {})).toBe(
      `${Object.keys(dealFlags).length} feature flags set for ${tenantId} (${enabled.length} on: ${enabled.join(', ')})`,
    );
  });

  it('keeps the plan limits beside the flags, so drift can compare both, and rolls them back with them', async () => {
    const step = sharedStep({ limits: { users: 25, storage_gb: 50 } });
    await step.run(ctx());
    expect(await sharedRecords().findOne({ _id: tenantId })).toEqual({
      _id: tenantId,
      features: dealFlags,
      limits: { users: 25, storage_gb: 50 },
      featuresUpdatedBy: jobId,
    });
    await step.rollback(ctx());
    expect(await sharedRecords().findOne({ _id: tenantId })).toEqual({ _id: tenantId });
  });

  it('a dedicated tenant keeps its record in the tenant_config collection of its own database', async () => {
    await featureFlagsStep.bind({ tenantId, database: dbName, isolation: 'dedicated', flags: { sso: true } }).run(ctx());
    const record = await client.db(dbName).collection<ConfigRecord>('tenant_config').findOne({ _id: tenantId });
    expect(record).toMatchObject({ features: { sso: true } });
  });

  it('running twice leaves the same single record', async () => {
    const step = sharedStep();
    await step.run(ctx());
    const first = await sharedRecords().findOne({ _id: tenantId });
    await step.run(ctx());
    expect(await sharedRecords().find({}).toArray()).toEqual([first]);
  });

  it('reports a flag in the record that the plan manifest does not know, and replaces it', async () => {
    await sharedRecords().insertOne({ _id: tenantId, features: { sso: false, beta_x: true }, region: 'us' });
    const step = sharedStep();
    const result = await step.run(ctx());

    expect(result.outputs?.['unknownFlags']).toEqual(['beta_x']);
    expect(step.describe(result.outputs ?? {})).toContain('; 1 flag not in the plan manifest removed: beta_x');
    const record = await sharedRecords().findOne({ _id: tenantId });
    expect(record).toEqual({ _id: tenantId, features: dealFlags, featuresUpdatedBy: jobId, region: 'us' });
  });

  it('check says missing, naming the flag, after someone changes the record by hand', async () => {
    const step = sharedStep();
    await step.run(ctx());
    await sharedRecords().updateOne({ _id: tenantId }, { $set: { 'features.sso': false, 'features.beta_x': true } });
    const checked = await step.check(ctx());
    expect(checked).toEqual({
      status: 'missing',
      reason: 'feature flag sso is off in the record but the plan says on; feature flag beta_x is in the record but not in the plan',
    });

    await sharedRecords().deleteOne({ _id: tenantId });
    expect(await step.check(ctx())).toEqual({ status: 'missing', reason: `the configuration record of ${tenantId} is gone` });
  });

  it('rollback removes the flags this job wrote, and a second rollback is fine', async () => {
    const step = sharedStep();
    await step.run(ctx());
    await step.rollback(ctx());
    const record = await sharedRecords().findOne({ _id: tenantId });
    expect(record).toEqual({ _id: tenantId });
    await step.rollback(ctx());
    expect(await step.check(ctx())).toMatchObject({ status: 'missing' });
  });

  it("rollback leaves another job's flags alone, and tolerates the database being gone", async () => {
    await sharedRecords().insertOne({ _id: tenantId, features: { sso: true }, featuresUpdatedBy: 'another-job' });
    await sharedStep().rollback(ctx());
    expect(await sharedRecords().findOne({ _id: tenantId })).toMatchObject({ features: { sso: true } });

    await client.db(dbName).dropDatabase();
    await sharedStep().rollback(ctx());
    const { databases } = await client.db().admin().listDatabases();
    expect(databases.map((db) => db.name)).not.toContain(dbName);
  });

  describe('with a flags service to tell', () => {
    let server: Server;
    let url: string;
    let answer: number;
    let received: { body: string; verified: boolean; idempotencyKey: string | undefined }[];

    function read(req: IncomingMessage): Promise<string> {
      return new Promise((resolve) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => resolve(body));
      });
    }

    beforeEach(async () => {
      received = [];
      answer = 200;
      server = createServer(async (req, res) => {
        const body = await read(req);
        const header = (name: string) => [req.headers[name]].flat()[0];
        const nowS = Math.floor(Date.now() / 1000);
        const verified = verifySignature({ secret: SECRET, timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER), body, nowS });
        received.push({ body, verified, idempotencyKey: header('idempotency-key') });
        res.writeHead(answer).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      url = `http://127.0.0.1:${address.port}/flags`;
    });
    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('pushes the applied flags, signed and with a stable idempotency key', async () => {
      const result = await sharedStep({ webhookUrl: url }).run(ctx());
      expect(result.outputs?.['pushHttpStatus']).toBe(200);
      const [push] = received;
      expect(push?.verified).toBe(true);
      expect(push?.idempotencyKey).toBe(`${jobId}.feature_flags.tenant.features_applied`);
      expect(JSON.parse(push?.body ?? '{}')).toEqual({
        event: 'tenant.features_applied',
        jobId,
        stepId: 'feature_flags',
        tenantId,
        features: dealFlags,
      });
      expect(push?.body).not.toContain(SECRET);
    });

    it('a 503 from the flags service is transient and a 400 is permanent', async () => {
      answer = 503;
      await expect(sharedStep({ webhookUrl: url }).run(ctx())).rejects.toBeInstanceOf(TransientError);
      answer = 400;
      const error = await sharedStep({ webhookUrl: url })
        .run(ctx())
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(PermanentError);
      expect(String(error)).toContain('answered HTTP 400');
    });
  });

  it('an unreachable database server is transient', async () => {
    const unreachable = new MongoClient(`mongodb://127.0.0.1:${CLOSED_PORT}/`, { serverSelectionTimeoutMS: 300 });
    try {
      const error = await sharedStep()
        .run(ctx({}, unreachable))
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(TransientError);
      expect(String(error)).toContain('unreachable');
    } finally {
      await unreachable.close();
    }
  });

  it('refuses flag names the database cannot store and an unknown isolation at validation', () => {
    expect(() => sharedStep({ flags: { 'beta.x': true } })).toThrow(/snake_case/);
    expect(() => sharedStep({ flags: { $where: true } })).toThrow(/snake_case/);
    expect(() => sharedStep({ isolation: 'pooled' })).toThrow(/dedicated/);
    expect(() => sharedStep({ flags: { sso: 'yes' } })).toThrow(/true or false/);
  });
});
