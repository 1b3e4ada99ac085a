/**
 * Before submitting a deal from a terminal, a platform engineer runs
 * `provisioner plan` with the same options as `provision` and reads what the
 * job would create. The dry run touches nothing: no job in the store, no key
 * in Redis, nothing in the AWS emulator, and no server started.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const id = randomBytes(4).toString('hex');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  QUEUE_PREFIX: `plan${id}`,
  MONGODB_DB: `plan_${id}`,
  BASE_DOMAIN: `plan${id}.tenants.test`,
  SECRET_PREFIX: `plan${id}/tenants`,
  PROVISIONER_OPERATOR: 'pat.platform',
  PROVISIONER_OPERATORS: 'pat.platform:admin,nobody.here:requester',
};
// No REDIS_URL or MONGODB_URI and no server on PATH: a command that tried to start one would fail.
const nowhere = mkdtempSync(join(tmpdir(), 'plan-empty-path-'));
const unconfigured: NodeJS.ProcessEnv = { ...env, PATH: nowhere, REDIS_URL: undefined, MONGODB_URI: undefined };
afterAll(() => rmSync(nowhere, { recursive: true, force: true }));

function plan(args: string[], how: NodeJS.ProcessEnv = env): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [resolve(ROOT, 'bin/provisioner.mjs'), 'plan', ...args],
      { env: how, cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        done({ code: err && typeof err.code === 'number' ? err.code : err ? 1 : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

const enterprise = ['--company', 'Initech GmbH', '--admin-email', 'bill@initech.example', '--plan', 'enterprise', '--residency', 'eu'];

describe('provisioner plan', () => {
  it('prints what an enterprise deal would create, who must approve, and where', async () => {
    const run = await plan([...enterprise, '--value', '250000', '--start-date', '2026-12-01', '--opportunity', `006PLAN${id}`]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('Preview for Initech GmbH (slug initech) on the enterprise plan, data in EU: nothing has been created.');
    expect(run.out).toContain('Approval needed before anything runs: Plan uses a dedicated database; Custom data residency: eu.');
    expect(run.out).toContain('  + MongoDB database tenant_initech (dedicated to this tenant)');
    expect(run.out).toContain(`  + AWS Secrets Manager secret plan${id}/tenants/initech in eu-west-1`);
    expect(run.out).toContain(`  + Route 53 CNAME record initech.plan${id}.tenants.test`);
    expect(run.out).toContain('Okta OIDC app Initech GmbH (tnt_initech)');
    expect(run.out).toContain('app id and client id: assigned at creation');
  });

  it('--json gives the same preview to machines', async () => {
    const run = await plan([...enterprise, '--opportunity', `006PLAN${id}`, '--json']);
    expect(run.code).toBe(0);
    const preview = JSON.parse(run.out);
    expect(preview.slug).toBe('initech');
    expect(preview.approvalReasons).toEqual(['Plan uses a dedicated database', 'Custom data residency: eu']);
    expect(preview.steps.map((s: { id: string }) => s.id)).toContain('billing');
  });

  it('refuses bad input as provision does: exit 2, every field named, no stack trace', async () => {
    const run = await plan(['--company', 'X', '--slug', 'admin', '--admin-email', 'nope', '--plan', 'gold', '--opportunity', 'has space']);
    expect(run.code).toBe(2);
    expect(run.out).toContain('adminEmail: Enter a valid email address');
    expect(run.out).toContain('plan: Unknown plan "gold"; choose one of: starter, growth, enterprise');
    expect(run.out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    const missing = await plan(['--company', 'Globex Inc']);
    expect(missing.code).toBe(2);
    expect(missing.out).toContain("'--admin-email <email>', '--plan <plan>', '--opportunity <id>'");
  });

  it('acts only as a configured operator (exit 3 otherwise)', async () => {
    const run = await plan(['--as', 'mallory', ...enterprise, '--opportunity', `006PLAN${id}`]);
    expect(run.code).toBe(3);
    expect(run.out).toContain('"mallory" is not a configured operator');
  });

  it('starts no server, and leaves nothing in Redis, the store or the AWS emulator', async () => {
    const run = await plan([...enterprise, '--opportunity', `006PLAN${id}`], unconfigured);
    expect(run.code).toBe(0);
    expect(run.out).not.toContain('[services]');
    await plan([...enterprise, '--opportunity', `006PLAN${id}`]);

    const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`plan${id}*`);
    await redis.quit();
    expect(keys).toEqual([]);
    const mongo = new MongoClient(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/');
    const databases = (await mongo.db().admin().listDatabases()).databases.map((d) => d.name);
    await mongo.close();
    expect(databases.filter((name) => name.includes(id) || name === 'tenant_initech')).toEqual([]);
    const aws = { endpoint: process.env['AWS_ENDPOINT_URL'] ?? '', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
    const zones = await new Route53Client(aws).send(new ListHostedZonesCommand({}));
    expect((zones.HostedZones ?? []).filter((z) => z.Name?.includes(id))).toEqual([]);
    const secrets = await new SecretsManagerClient(aws).send(new ListSecretsCommand({}));
    expect((secrets.SecretList ?? []).filter((s) => s.Name?.includes(id))).toEqual([]);
  });
});
