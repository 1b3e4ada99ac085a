/**
 * A platform engineer drives the provisioner from a terminal: the real CLI
 * process, the repo's manifests, real Redis and MongoDB-wire servers.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startLocalEmulators, type LocalEmulators } from '../../src/emulators/emulators.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const id = randomBytes(4).toString('hex');
const isolated = {
  QUEUE_PREFIX: `cli${id}`,
  MONGODB_DB: `cli_${id}`,
  PROVISIONER_OPERATOR: 'pat.platform',
  BASE_DOMAIN: `cli${id}.tenants.test`,
  SECRET_PREFIX: `cli${id}/tenants`,
  SHARED_DATABASE: `shared_cli${id}`,
};
let env: NodeJS.ProcessEnv = { ...process.env, ...isolated };
let emulators: LocalEmulators | undefined;

// The CLI runs the real pipeline: it gets Stripe, Okta, SMTP and webhook emulators of its own.
beforeAll(async () => {
  emulators = await startLocalEmulators(
    loadConfig({ MANIFESTS_DIR: resolve(ROOT, 'manifests'), SEED_MANIFESTS_DIR: resolve(ROOT, 'seed-manifests') }),
  );
  env = { ...env, ...emulators.env };
});

function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [resolve(ROOT, 'src/cli/main.ts'), ...args], { env, cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
      done({ code, out: `${stdout}${stderr}` });
    });
  });
}

afterAll(async () => {
  await emulators?.close();
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  await redis.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", 0, `cli${id}:*`);
  await redis.quit();
  const mongo = new MongoClient(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/');
  await mongo.db(`cli_${id}`).dropDatabase();
  await mongo.close();
});

describe('the provisioner CLI', () => {
  it('provisions a starter tenant, exits 0 once it is live, then shows status and a plain-language audit', async () => {
    const run = await cli(
      'provision',
      '--company',
      'Initech LLC',
      '--admin-email',
      'bill@initech.example',
      '--plan',
      'starter',
      '--value',
      '9000',
      '--opportunity',
      `006INI${id}`,
    );
    expect(run.out).toContain('Status: live');
    expect(run.code).toBe(0);
    expect(run.out).toContain(`✓ DNS record initech.${isolated.BASE_DOMAIN} (CNAME) points at edge.${isolated.BASE_DOMAIN}`);
    expect(emulators?.stripe.customersFor('tnt_initech')).toHaveLength(1);

    const status = await cli('status', 'initech');
    expect(status.code).toBe(0);
    expect(status.out).toContain('Initech LLC — starter plan — slug initech');

    const audit = await cli('audit', 'Initech LLC');
    expect(audit.code).toBe(0);
    expect(audit.out).toContain('pat.platform requested a starter tenant for Initech LLC (slug initech).');
    expect(audit.out).toMatch(/\d\d:\d\d Tenant initech is live at https:\/\/initech\.cli\w+\.tenants\.test/);
  });

  it('names every bad field and exits 2 without creating anything', async () => {
    const run = await cli(
      'provision',
      '--company',
      'X',
      '--slug',
      'admin',
      '--admin-email',
      'not-an-email',
      '--plan',
      'gold',
      '--opportunity',
      'has space',
    );
    expect(run.code).toBe(2);
    expect(run.out).toContain('slug: ');
    expect(run.out).toContain('adminEmail: Enter a valid email address');
    expect(run.out).toContain('plan: Unknown plan "gold"; choose one of: starter, growth, enterprise');
    const list = await cli('list');
    expect(list.out).not.toContain('admin');
  });

  it('refuses to approve a job that is not waiting for approval, with exit 3 and the reason', async () => {
    const run = await cli('approve', 'initech');
    expect(run.code).toBe(3);
    expect(run.out).toMatch(/Not done: nothing in the job for Initech LLC is waiting for approval \(the job is live\)/);
  });

  it("shows a dry run of a tenant's data for a plan, writing nothing", async () => {
    const run = await cli('seed-plan', 'enterprise', '--slug', 'globex');
    expect(run.code).toBe(0);
    expect(run.out).toContain('Dry run for tenant "globex" on the enterprise plan: nothing is written.');
    expect(run.out).toContain("Database tenant_globex (the tenant's own)");
    expect(run.out).toMatch(/roles +4 seed records/);
    expect(run.out).toContain('Seed 2026.11.0: 13 records');
    const mongo = new MongoClient(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/');
    const databases = (await mongo.db().admin().listDatabases()).databases.map((d) => d.name);
    await mongo.close();
    expect(databases).not.toContain('tenant_globex');
    expect((await cli('seed-plan', 'gold')).code).toBe(2);
  });
});
