/**
 * An operator suspends, reactivates and refuses to change tenants from a
 * terminal: the real CLI process, the repo's manifests, real Redis and
 * MongoDB-wire servers and the emulators.
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
  QUEUE_PREFIX: `lcli${id}`,
  MONGODB_DB: `lcli_${id}`,
  PROVISIONER_OPERATOR: 'pat.platform',
  PROVISIONER_OPERATORS: 'pat.platform:admin,sam.approver:approver,jane.ae:requester',
  BASE_DOMAIN: `lcli${id}.tenants.test`,
  SECRET_PREFIX: `lcli${id}/tenants`,
  SHARED_DATABASE: `shared_lcli${id}`,
};
let env: NodeJS.ProcessEnv = { ...process.env, ...isolated };
let emulators: LocalEmulators | undefined;

beforeAll(async () => {
  emulators = await startLocalEmulators(
    loadConfig({ MANIFESTS_DIR: resolve(ROOT, 'manifests'), SEED_MANIFESTS_DIR: resolve(ROOT, 'seed-manifests') }),
  );
  env = { ...env, ...emulators.env };
});

afterAll(async () => {
  await emulators?.close();
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  await redis.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", 0, `lcli${id}:*`);
  await redis.quit();
  const mongo = new MongoClient(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/');
  await mongo.db(`lcli_${id}`).dropDatabase();
  await mongo.close();
});

function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [resolve(ROOT, 'src/cli/main.ts'), ...args], { env, cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
      done({ code, out: `${stdout}${stderr}` });
    });
  });
}

const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

describe('lifecycle verbs on the CLI', () => {
  it('suspends a live tenant once an approver agrees, reactivates it, and refuses what the policy or the status machine does not allow', async () => {
    const provisioned = await cli(
      'provision',
      '--company',
      'Hooli',
      '--admin-email',
      'gavin@hooli.example',
      '--plan',
      'starter',
      '--opportunity',
      `006HOO${id}`,
    );
    expect(provisioned.code).toBe(0);

    const noReason = await cli('suspend', 'hooli');
    expect(noReason.code).toBe(2);
    expect(noReason.out).toContain("required option '--reason <text>' not specified");

    const byRequester = await cli('suspend', 'hooli', '--reason', 'not paying', '--as', 'jane.ae');
    expect(byRequester).toMatchObject({ code: 3, out: expect.stringContaining('Not done: Only approvers can suspend tenants; ask one of them') });

    const asked = await cli('suspend', 'hooli', '--reason', 'customer asked for a pause', '--as', 'sam.approver', '--request-id', 'TICKET-1');
    expect(asked.code).toBe(0);
    expect(asked.out).toMatch(/Job hooli-suspend-\w+ created\./);
    expect(asked.out).toContain('Status: waiting for approval');
    const again = await cli('suspend', 'hooli', '--reason', 'customer asked for a pause', '--as', 'sam.approver', '--request-id', 'TICKET-1');
    expect(again.out).toMatch(/The same request already has job hooli-suspend-\w+; showing it\./);

    const approved = await cli('approve', 'hooli', '--follow');
    expect(approved.code).toBe(0);
    expect(approved.out).toContain('Status: Suspended hooli');

    const refused = await cli('suspend', 'hooli', '--reason', 'again');
    expect(refused).toMatchObject({ code: 3, out: expect.stringContaining('Not done: hooli is already suspended') });
    expect(refused.out).not.toMatch(STACK_TRACE);

    const back = await cli('reactivate', 'hooli', '--reason', 'invoice paid');
    expect(back.code).toBe(0);
    expect(back.out).toContain('Status: Reactivated hooli');

    const audit = await cli('audit', 'hooli');
    expect(audit.out).toContain('sam.approver from the CLI asked to suspend Hooli (slug hooli): "customer asked for a pause".');
    expect(audit.out).toContain('Suspended hooli');
    expect(audit.out).toContain('Reactivated hooli');
    // A dozen CLI processes, each composing the app: far longer than one test usually takes.
  }, 180_000);

  it('refuses a plan change between a shared and a dedicated database, saying why', async () => {
    const provisioned = await cli(
      'provision',
      '--company',
      'Pied Piper',
      '--admin-email',
      'richard@piper.example',
      '--plan',
      'starter',
      '--opportunity',
      `006PIP${id}`,
    );
    expect(provisioned.code).toBe(0);
    const refused = await cli('change-plan', 'pied-piper', '--plan', 'enterprise', '--reason', 'bigger deal');
    expect(refused.code).toBe(3);
    expect(refused.out).toContain(
      'Not done: pied-piper cannot move from Starter (shared database) to Enterprise (dedicated database): a plan change does not move a tenant’s data between a shared and a dedicated database',
    );
  }, 120_000);
});
