/**
 * The tenant secrets step against moto's Secrets Manager, each test at its
 * own secret path. Injected failures go through the loopback proxy in front
 * of moto, which answers with Secrets Manager's JSON error shape.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { uuidV5 } from '../../src/steps/aws/client-request-token.ts';
import type { StepContext } from '../../src/steps/step.ts';
import { tenantSecretsStep } from '../../src/steps/tenant-secrets.ts';
import { startRoute53PendingProxy, type Route53PendingProxy } from '../support/route53-pending-proxy.ts';
import { AWS_TEST_CREDENTIALS, CLOSED_PORT, stepContext } from '../support/step-context.ts';

const MOTO = process.env['AWS_ENDPOINT_URL'] ?? 'http://127.0.0.1:5000';

function secretsManager(endpoint = MOTO): SecretsManagerClient {
  // One attempt: the step, not the SDK, decides what a failure means.
  return new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials: AWS_TEST_CREDENTIALS, maxAttempts: 1 });
}

const moto = secretsManager();
const elsewhere = new Map<string, SecretsManagerClient>();
/** moto's Secrets Manager in another region (a tenant's residency). */
function secretsIn(region: string): SecretsManagerClient {
  const known = elsewhere.get(region);
  if (known) return known;
  const client = new SecretsManagerClient({ endpoint: MOTO, region, credentials: AWS_TEST_CREDENTIALS, maxAttempts: 1 });
  elsewhere.set(region, client);
  return client;
}

const Credentials = z.object({ databaseUser: z.string(), databasePassword: z.string(), apiSigningKey: z.string() });

type SecretsOptions = { client?: SecretsManagerClient; jobId?: string; outputs?: Record<string, unknown>; recoveryWindowDays?: number };

function secretsContext(opts: SecretsOptions = {}): StepContext<unknown> {
  return stepContext({
    jobId: opts.jobId ?? 'acme-secrets-job',
    stepId: 'secrets',
    outputs: opts.outputs ?? {},
    services: {
      secrets: {
        client: async () => opts.client ?? moto,
        inRegion: async (region) => (opts.client ? opts.client : secretsIn(region)),
        recoveryWindowDays: opts.recoveryWindowDays ?? 7,
      },
    },
  });
}

/** Secrets ListSecrets shows under exactly this name (ones scheduled for deletion are hidden). */
async function listedSecrets(path: string): Promise<string[]> {
  const answer = await moto.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [path] }] }));
  return (answer.SecretList ?? []).flatMap((s) => (s.Name === path && s.ARN !== undefined ? [s.ARN] : []));
}

async function storedCredentials(path: string) {
  const answer = await moto.send(new GetSecretValueCommand({ SecretId: path }));
  return Credentials.parse(JSON.parse(answer.SecretString ?? '{}'));
}

describe('the tenant secrets step stores generated credentials in Secrets Manager', () => {
  let path: string;
  let step: ReturnType<typeof tenantSecretsStep.bind>;
  beforeEach(() => {
    path = `tenants/acme-${randomUUID().slice(0, 8)}`;
    step = tenantSecretsStep.bind({ path, tenantId: 'tnt_acme' });
  });

  it('creates one secret with strong credentials, tagged with the tenant and the job, and reports only its identity', async () => {
    const result = await step.run(secretsContext());
    expect(result.status).toBe('done');
    const outputs = result.outputs ?? {};
    expect(Object.keys(outputs).sort()).toEqual(['arn', 'name', 'versionId']);
    expect(outputs).toMatchObject({ name: path, versionId: uuidV5('acme-secrets-job.secrets') });
    const credentials = await storedCredentials(path);
    expect(credentials.databaseUser).toBe('app_tnt_acme');
    expect(credentials.databasePassword).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(credentials.apiSigningKey).toMatch(/^[0-9a-f]{64}$/);
    const described = await moto.send(new DescribeSecretCommand({ SecretId: path }));
    expect(described.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'tenant-id', Value: 'tnt_acme' },
        { Key: 'provisioner-job', Value: 'acme-secrets-job' },
      ]),
    );
    expect(await step.check(secretsContext({ outputs }))).toEqual({ status: 'done', outputs });
    expect(step.describe(outputs)).toBe(`Credentials for tnt_acme stored in AWS Secrets Manager at ${path}`);
  });

  it('never puts a generated value in outputs, check results or error messages', async () => {
    const result = await step.run(secretsContext());
    const { databasePassword, apiSigningKey } = await storedCredentials(path);
    const seen: string[] = [JSON.stringify(result), JSON.stringify(await step.check(secretsContext())), step.describe(result.outputs ?? {})];
    const refused = await step.run(secretsContext({ jobId: 'another-job' })).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(PermanentError);
    seen.push(String(refused), JSON.stringify(await step.check(secretsContext({ jobId: 'another-job' }))));
    for (const text of seen) {
      expect(text).not.toContain(databasePassword);
      expect(text).not.toContain(apiSigningKey);
    }
  });

  it('a retry after a crash (no recorded outputs) creates no second secret and keeps the first one', async () => {
    const first = await step.run(secretsContext());
    const before = await storedCredentials(path);
    const retry = await step.run(secretsContext({ outputs: {} }));
    expect(retry).toEqual(first);
    expect(await listedSecrets(path)).toEqual([first.outputs?.['arn']]);
    expect(await storedCredentials(path)).toEqual(before);
    // The engine's look-before-running after a crash finds it too, and learns its ARN.
    expect(await step.check(secretsContext())).toEqual({ status: 'done', outputs: first.outputs });
  });

  it('refuses for good a secret at the same path that another job created, and never deletes it', async () => {
    const theirs = await step.run(secretsContext({ jobId: 'globex-job' }));
    const run = step.run(secretsContext());
    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow(`secret ${path} already exists and was not created by this job (it belongs to provisioner job globex-job)`);
    expect(await step.check(secretsContext())).toEqual({ status: 'missing', reason: `secret ${path} was not created by this job` });
    await step.rollback(secretsContext());
    expect(await listedSecrets(path)).toEqual([theirs.outputs?.['arn']]);
  });

  it('refuses a secret someone made by hand at the same path', async () => {
    await moto.send(new CreateSecretCommand({ Name: path, SecretString: 'hand-made' }));
    await expect(step.run(secretsContext())).rejects.toThrow(/was not created by this job \(it has no provisioner-job tag\)/);
  });

  it('rollback schedules the secret for deletion; a second rollback is fine', async () => {
    const { outputs } = await step.run(secretsContext());
    await step.rollback(secretsContext({ outputs }));
    const described = await moto.send(new DescribeSecretCommand({ SecretId: path }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    expect(await listedSecrets(path)).toEqual([]);
    await step.rollback(secretsContext({ outputs }));
    await step.rollback(secretsContext());
    expect(await step.check(secretsContext({ outputs }))).toEqual({ status: 'missing', reason: `secret ${path} is scheduled for deletion` });
  });

  it("stores the secret in the tenant's residency region, and only there; check and rollback find it there", async () => {
    const eu = tenantSecretsStep.bind({ path, tenantId: 'tnt_acme', region: 'eu-west-1' });
    const { outputs } = await eu.run(secretsContext());
    expect(String(outputs?.['arn'])).toMatch(/^arn:aws:secretsmanager:eu-west-1:/);
    expect(await listedSecrets(path)).toEqual([]);
    const there = await secretsIn('eu-west-1').send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [path] }] }));
    expect((there.SecretList ?? []).map((s) => s.Name)).toEqual([path]);
    expect(await eu.check(secretsContext({ outputs }))).toMatchObject({ status: 'done' });
    await eu.rollback(secretsContext({ outputs }));
    expect(await eu.check(secretsContext({ outputs }))).toEqual({ status: 'missing', reason: `secret ${path} is scheduled for deletion` });
  });

  it('running again after a rollback restores the same secret instead of failing', async () => {
    const first = await step.run(secretsContext());
    await step.rollback(secretsContext({ outputs: first.outputs }));
    const again = await step.run(secretsContext());
    expect(again.outputs?.['arn']).toBe(first.outputs?.['arn']);
    expect(await listedSecrets(path)).toEqual([first.outputs?.['arn']]);
    expect(await step.check(secretsContext())).toMatchObject({ status: 'done' });
  });

  it('check reports the secret missing after it is deleted out of band', async () => {
    const { outputs } = await step.run(secretsContext());
    await moto.send(new DeleteSecretCommand({ SecretId: path, ForceDeleteWithoutRecovery: true }));
    expect(await step.check(secretsContext({ outputs }))).toEqual({ status: 'missing', reason: `secret ${path} does not exist` });
    await step.rollback(secretsContext({ outputs }));
  });

  it('a recovery window AWS refuses fails for good and names the setting', async () => {
    const { outputs } = await step.run(secretsContext());
    const rollback = step.rollback(secretsContext({ outputs, recoveryWindowDays: 3 }));
    await expect(rollback).rejects.toBeInstanceOf(PermanentError);
    await expect(rollback).rejects.toThrow(
      `Secrets Manager refused a recovery window of 3 days for ${outputs?.['arn']}; set SECRETS_RECOVERY_WINDOW_DAYS between 7 and 30`,
    );
  });

  it('refuses a path Secrets Manager would not accept, before any call', () => {
    expect(() => tenantSecretsStep.bind({ path: 'tenants/acme corp!', tenantId: 'tnt_acme' })).toThrow(/not a valid secret name/);
  });

  it('uses the same RFC 9562 version 5 client request token on every attempt', () => {
    // The RFC's own example: "www.example.com" in the DNS namespace.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(uuidV5('acme-1.secrets')).toBe(uuidV5('acme-1.secrets'));
    expect(uuidV5('acme-1.secrets')).not.toBe(uuidV5('acme-2.secrets'));
  });
});

describe('when Secrets Manager pushes back', () => {
  let path: string;
  let proxy: Route53PendingProxy;
  let client: SecretsManagerClient;
  beforeEach(async () => {
    path = `tenants/acme-${randomUUID().slice(0, 8)}`;
    proxy = await startRoute53PendingProxy({ target: MOTO });
    client = secretsManager(proxy.url);
  });
  afterEach(async () => {
    client.destroy();
    await proxy.close();
  });

  it('throttling, server errors and an unreachable service are temporary, and nothing is created', async () => {
    const step = tenantSecretsStep.bind({ path, tenantId: 'tnt_acme' });
    proxy.failNext(1, 400);
    const throttled = step.run(secretsContext({ client }));
    await expect(throttled).rejects.toBeInstanceOf(TransientError);
    await expect(throttled).rejects.toThrow('Secrets Manager is throttling requests (ThrottlingException); will try again');
    proxy.failNext(1, 500);
    await expect(step.run(secretsContext({ client }))).rejects.toThrow(/Secrets Manager had a temporary problem \(HTTP 500 InternalServiceError\)/);
    await expect(step.run(secretsContext({ client: secretsManager(`http://127.0.0.1:${CLOSED_PORT}`) }))).rejects.toBeInstanceOf(TransientError);
    expect(await listedSecrets(path)).toEqual([]);

    const { outputs } = await step.run(secretsContext({ client }));
    proxy.failNext(1, 503);
    await expect(step.check(secretsContext({ client, outputs }))).rejects.toBeInstanceOf(TransientError);
    proxy.failNext(1, 400);
    await expect(step.rollback(secretsContext({ client, outputs }))).rejects.toBeInstanceOf(TransientError);
    await step.rollback(secretsContext({ client, outputs }));
    expect(await listedSecrets(path)).toEqual([]);
  });

  it('access denied fails for good and says which permissions to grant', async () => {
    const step = tenantSecretsStep.bind({ path, tenantId: 'tnt_acme' });
    proxy.failNext(1, 400, 'AccessDeniedException');
    const run = step.run(secretsContext({ client }));
    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toThrow(`the bot's AWS credentials may not manage secret ${path} (AccessDeniedException)`);
  });
});
