/**
 * A platform engineer drives the provisioner from a terminal: the real CLI
 * process, the repo's manifests, real Redis and MongoDB-wire servers.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { callerWithToken, tokenHash } from '../../src/domain/api-callers.ts';
import { startLocalEmulators, type LocalEmulators } from '../../src/emulators/emulators.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const id = randomBytes(4).toString('hex');
const isolated = {
  QUEUE_PREFIX: `cli${id}`,
  MONGODB_DB: `cli_${id}`,
  PROVISIONER_OPERATOR: 'pat.platform',
  PROVISIONER_OPERATORS: 'pat.platform:admin,sam.approver:approver,jane.ae:requester',
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

type Run = { code: number; out: string; ms: number };

/** Runs a command of the real CLI: `src/cli/main.ts` with the test's servers, or another entry point and environment. */
function run(args: string[], how: { entry?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const started = performance.now();
  return new Promise((done) => {
    const entry = resolve(ROOT, how.entry ?? 'src/cli/main.ts');
    execFile(process.execPath, [entry, ...args], { env: how.env ?? env, cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
      done({ code, out: `${stdout}${stderr}`, ms: performance.now() - started });
    });
  });
}

const cli = (...args: string[]) => run(args);
const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

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
    expect(audit.out).toContain('pat.platform requested a starter tenant for Initech LLC (slug initech) from the CLI.');
    expect(audit.out).toMatch(/\d\d:\d\d Tenant initech is live at https:\/\/initech\.cli\w+\.tenants\.test/);
    // The whole real pipeline (13 steps on the emulators) in a process of its own: ~13 s alone, several times that
    // on two cores shared with the rest of the suite.
  }, 120_000);

  it('drift finds initech has what it pays for: the plan flags and limits set at provisioning; an unknown tenant exits 3', async () => {
    const drift = await cli('drift', 'initech');
    expect(drift.code).toBe(0);
    expect(drift.out).toContain('initech (Initech LLC) has what billing pays for: no drift.');
    const nobody = await cli('drift', 'nobody-here');
    expect(nobody.code).toBe(3);
    expect(nobody.out).toContain('there is no tenant "nobody-here"');
    expect(nobody.out).not.toMatch(STACK_TRACE);
  });

  it('stats prints the KPIs, working out the facts of jobs that changed and keeping them for the next run', async () => {
    const first = await cli('stats');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^Signed-to-live KPIs over \d+ jobs? \(as of \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/m);
    expect(first.out).toMatch(/^ {2}Contract signed → live +\S.* \(p90 .+\)$/m);
    expect(first.out).toMatch(/^ {2}Requested → live +\d.* \(p90 .+\)$/m);
    expect(first.out).toContain('  starter: ');
    const mongo = new MongoClient(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/');
    const db = mongo.db(`cli_${id}`);
    const jobs = await db
      .collection('jobs')
      .find({}, { projection: { seq: 1 } })
      .toArray();
    const kept = await db
      .collection('kpi_facts')
      .find({}, { projection: { seq: 1 } })
      .toArray();
    await mongo.close();
    expect(kept.map((f) => [f._id, f['seq']]).sort()).toEqual(jobs.map((j) => [j._id, j['seq']]).sort());

    const again = await cli('stats');
    expect(again.out.replace(/\(as of .*\)/, '')).toBe(first.out.replace(/\(as of .*\)/, ''));
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

  it("refuses a CRM opportunity that already belongs to another company's tenant, with exit 2 naming that tenant", async () => {
    const run = await cli(
      'provision',
      '--company',
      'Globex Inc',
      '--admin-email',
      'ops@globex.example',
      '--plan',
      'growth',
      '--value',
      '9000',
      '--opportunity',
      `006INI${id}`,
    );
    expect(run.code).toBe(2);
    expect(run.out).toContain(`crmOpportunityId: Opportunity 006INI${id} already belongs to tenant initech (Initech LLC, job initech-`);
    expect(run.out).toContain('this request differs in company name, slug, admin email and plan.');
    expect(run.out).not.toContain('following it');
    expect((await cli('status', 'globex')).code).toBe(3);
  });

  it('reads --feature, --residency, --value, --start-date and the slug exactly, exiting 2 on anything it would have to guess', async () => {
    // --no-worker --no-follow: had any of this been accepted, the command would have returned at once with exit 0.
    const provision = (...args: string[]) =>
      cli('provision', '--admin-email', 'it@umbrella.example', '--plan', 'starter', '--no-worker', '--no-follow', ...args);

    const run = await provision(
      ...['--company', 'Umbrella', '--opportunity', `006UMB1${id}`],
      ...['--feature', 'sso=disabled', '--feature', '__proto__=on', '--feature', '=on'],
      ...['--residency', '', '--value', '1,2,3', '--start-date', '2999-01-01'],
    );
    expect(run.code).toBe(2);
    for (const problem of [
      'featureOverrides: Feature "sso" must be on or off (or true or false), not "disabled"; Unknown feature flag "__proto__"; known flags: sso, ',
      '; Feature override "=on" names no flag; write flag=on or flag=off, e.g. sso=on',
      'dataResidency: Choose a data residency: us, eu, uk, au',
      'contractValue: "1,2,3" is not an amount: put thousands separators every three digits, e.g. 1,234,567.50',
      'contractStartDate: Contract start date 2999-01-01 puts the first bill more than 730 days ahead, further than Stripe can schedule it',
    ]) {
      expect(run.out).toContain(problem);
    }

    const slug = await provision('--company', '株式会社', '--opportunity', `006UMB2${id}`);
    expect(slug.code).toBe(2);
    expect(slug.out).toContain(
      'slug: No slug can be suggested from "株式会社" (a hostname needs Latin letters or digits); choose a slug with --slug, e.g. --slug acme-jp',
    );

    // Nothing was created: not Umbrella, nor a tenant with an invented slug.
    expect((await cli('list')).out).not.toMatch(/^(umbrella|tenant) /m);
  });

  it('prints what people typed as visible text: a terminal escape or a bidi override is shown, never obeyed', async () => {
    const status = await cli('status', 'evil\u001b[2J\u001b]0;pwned\u0007\u202e');
    expect(status.code).toBe(3);
    expect(status.out).toContain('no job found for "evil\\u001B[2J\\u001B]0;pwned\\u0007\\u202E"');
    const plan = await cli(
      'provision',
      '--company',
      'Umbrella',
      '--admin-email',
      'it@umbrella.example',
      '--plan',
      'gold\u001b[31m',
      '--opportunity',
      `006UMB9${id}`,
    );
    expect(plan.code).toBe(2);
    expect(plan.out).toContain('Unknown plan "gold\\u001B[31m"');
    for (const run of [status, plan]) for (const raw of ['\u001b', '\u0007', '\u202e']) expect(run.out).not.toContain(raw);
  });

  it('refuses to approve a job that is not waiting for approval, with exit 3 and the reason', async () => {
    const run = await cli('approve', 'initech', '--as', 'sam.approver');
    expect(run.code).toBe(3);
    expect(run.out).toMatch(/Not done: nothing in the job for Initech LLC is waiting for approval \(the job is live\)/);
  });

  it('acts only as a configured operator, and only as their role allows', async () => {
    const stranger = await cli('retry', 'initech', '--as', 'mallory');
    expect(stranger.code).toBe(3);
    expect(stranger.out).toContain(
      'Not done: "mallory" is not a configured operator; the CLI acts only as one of: pat.platform, sam.approver, jane.ae',
    );
    const requester = await cli('rollback', 'initech', '--as', 'jane.ae', '--reason', 'wrong customer');
    expect(requester.code).toBe(3);
    expect(requester.out).toContain('Not done: Only approvers can roll back provisioning jobs; ask one of the approvers.');
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

describe('a mistyped command line is invalid input: exit 2, every problem named, nothing started', () => {
  it.each([
    ['an unknown command', ['provison'], "error: unknown command 'provison'"],
    ['an unknown option', ['list', '--verbose'], "error: unknown option '--verbose'"],
    ['an option without its value', ['status', 'initech', '--as'], "error: option '--as <name>' argument missing"],
    ['a missing argument', ['status'], "error: missing required argument 'tenant'"],
    ['an extra argument', ['status', 'initech', 'globex'], "error: too many arguments for 'status'"],
    ['no command at all', [], 'Usage: provisioner [options] [command]'],
    // Found by the fuzz (seed 1207132032): an empty argument as the command named nothing at all.
    ['an empty command', ['', '--plan'], "error: unknown command ''\n(provisioner --help lists the commands)"],
  ])('%s exits 2 with what was wrong', async (_case, args, message) => {
    const result = await cli(...args);
    expect(result.out).toContain(message);
    expect(result.code).toBe(2);
  });

  it('a provision without its required options names every missing one in one message', async () => {
    const result = await cli('provision', '--company', 'Globex Inc');
    expect(result.code).toBe(2);
    expect(result.out).toContain("error: required options '--admin-email <email>', '--plan <plan>', '--opportunity <id>' not specified");
    expect(result.out).not.toContain('--company <name>');
  });

  it('input that is not JSON is refused before anything is looked up, naming the option', async () => {
    const result = await cli('input', 'initech', '--step', 'sso', '--json', '{bad');
    expect(result.code).toBe(2);
    expect(result.out).toContain("error: option '--json <input>' argument '{bad' is invalid. Not valid JSON:");
    expect(result.out).not.toMatch(STACK_TRACE);
  });
});

describe('a manifest that would crash the YAML parser', () => {
  /** Each level aliases the one before nine times: a few lines that expand to 9^7 strings. */
  const billionLaughs = [
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ...['b', 'c', 'd', 'e', 'f', 'g'].map((level, index) => `${level}: &${level} [${Array(9).fill(`*${'abcdef'[index]}`).join(', ')}]`),
    '',
  ].join('\n');

  it('is invalid input naming the file and the alias, exit 2, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-manifests-'));
    try {
      copyFileSync(resolve(ROOT, 'manifests/pipeline.yaml'), join(dir, 'pipeline.yaml'));
      writeFileSync(join(dir, 'plans.yaml'), billionLaughs);
      const result = await run(['seed-plan', 'starter'], { env: { ...env, MANIFESTS_DIR: dir } });
      expect(result.out).toContain(`${join(dir, 'plans.yaml')}: c[0]: aliases expand to too many values (more than 100)`);
      expect(result.out).toContain('(line 3, column 8)');
      expect(result.out).not.toMatch(STACK_TRACE);
      expect(result.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the provisioner command answers help, --version and usage errors at once, starting no servers', () => {
  // No REDIS_URL or MONGODB_URI (so servers would be started) and a PATH where no server can be found or installed:
  // a command that tried to start them would fail, or take many seconds.
  const nowhere = mkdtempSync(join(tmpdir(), 'cli-empty-path-'));
  const unconfigured: NodeJS.ProcessEnv = { ...env, PATH: nowhere, REDIS_URL: undefined, MONGODB_URI: undefined };
  const provisioner = (...args: string[]) => run(args, { entry: 'bin/provisioner.mjs', env: unconfigured });
  const persistentServers = resolve(ROOT, '.local/services/cli');
  const leftBehind = () => (existsSync(persistentServers) ? readdirSync(persistentServers).sort() : []);
  afterAll(() => rmSync(nowhere, { recursive: true, force: true }));

  it.each([
    ['--help', ['--help'], 0, 'Usage: provisioner [options] [command]'],
    ['help for a command', ['help', 'provision'], 0, '--company <name>           customer company name (required)'],
    ["a command's --help", ['approve', '--help'], 0, 'Usage: provisioner approve [options] <tenant>'],
    ['--version', ['--version'], 0, `${JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')).version}\n`],
    ['an unknown command', ['stauts', 'initech'], 2, "error: unknown command 'stauts'"],
    ['a missing option', ['provision', '--company', 'Globex Inc'], 2, "'--plan <plan>'"],
  ])('%s', async (_case, args, code, output) => {
    const before = leftBehind();
    const result = await provisioner(...args);
    expect(result.out).toContain(output);
    expect(result.code).toBe(code);
    expect(result.out).not.toContain('[services]');
    expect(leftBehind()).toEqual(before);
    // Well under the seconds that starting servers (or loading every SDK) takes, with room for a busy machine.
    expect(result.ms).toBeLessThan(3_000);
  });

  it('keeps our compiled TypeScript in a compile cache, so the next start skips the type stripper', async () => {
    // Where bin/node-launch.json puts it; emptied first, so what is found there was written by this start.
    const cache = resolve(ROOT, 'node_modules/.cache/provisioner-compile');
    rmSync(cache, { recursive: true, force: true });
    const result = await run(['--version'], { entry: 'bin/provisioner.mjs', env: { ...unconfigured, NODE_COMPILE_CACHE: undefined } });
    expect(result.code).toBe(0);
    // Node keeps one folder per Node version and V8 flags, holding an entry per module it compiled.
    const kept = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(kept.length).toBeGreaterThan(10);
  });

  it('the seed dry run reads only the manifests and starts nothing either', async () => {
    const before = leftBehind();
    const result = await provisioner('seed-plan', 'starter');
    expect(result.out).toContain('Dry run for tenant "sample-co" on the starter plan: nothing is written.');
    expect(result.code).toBe(0);
    expect(result.out).not.toContain('[services]');
    expect(leftBehind()).toEqual(before);
  });

  it('api-token create prints a new token once and the API_CALLERS value that accepts it beside the current one, starting nothing', async () => {
    const current = `sha256:${tokenHash('the-current-product-token')}`;
    const result = await run(['api-token', 'create', 'product'], {
      entry: 'bin/provisioner.mjs',
      env: { ...unconfigured, API_CALLERS: `product=${current}` },
    });
    expect(result.code).toBe(0);
    expect(result.out).not.toContain('[services]');
    const token = /^ {2}(prov_[A-Za-z0-9_-]{43})$/m.exec(result.out)?.[1];
    const value = /^ {2}API_CALLERS='([^']+)'$/m.exec(result.out)?.[1];
    if (!token || !value) throw new Error(`no token or API_CALLERS line in:\n${result.out}`);
    expect(value).toBe(`product=sha256:${tokenHash(token)}|${current}`);
    const deployed = loadConfig({ API_CALLERS: value }).apiCallers;
    expect(callerWithToken(token, deployed)).toBe('product');
    expect(callerWithToken('the-current-product-token', deployed)).toBe('product');

    const refused = await run(['api-token', 'create', 'Our Product'], { entry: 'bin/provisioner.mjs', env: unconfigured });
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('caller: a caller name is lowercase letters, digits, - and _');
  });

  it('api-token rotate keeps the current token beside the new one, and revoke then drops the old one, saying nothing changed by itself', async () => {
    const current = `sha256:${tokenHash('the-current-crm-token')}`;
    const env = { ...unconfigured, API_CALLERS: `crm=${current}` };
    const rotated = await run(['api-token', 'rotate', 'crm'], { entry: 'bin/provisioner.mjs', env });
    expect(rotated.code).toBe(0);
    const token = /^ {2}(prov_[A-Za-z0-9_-]{43})$/m.exec(rotated.out)?.[1];
    const value = /^ {2}API_CALLERS='([^']+)'$/m.exec(rotated.out)?.[1];
    if (!token || !value) throw new Error(`no token or API_CALLERS line in:\n${rotated.out}`);
    expect(value).toBe(`crm=sha256:${tokenHash(token)}|${current}`);
    expect(rotated.out).toContain('Nothing is changed here (configuration is the environment)');

    const revoked = await run(['api-token', 'revoke', 'crm'], { entry: 'bin/provisioner.mjs', env: { ...unconfigured, API_CALLERS: value } });
    expect(revoked.code).toBe(0);
    const after = /^ {2}API_CALLERS='([^']*)'$/m.exec(revoked.out)?.[1];
    expect(after).toBe(`crm=sha256:${tokenHash(token)}`);
    const deployed = loadConfig({ API_CALLERS: after ?? '' }).apiCallers;
    expect(callerWithToken(token, deployed)).toBe('crm');
    expect(callerWithToken('the-current-crm-token', deployed)).toBeUndefined();

    // Rotating or revoking a caller nobody configured is a mistake, named.
    const unknown = await run(['api-token', 'rotate', 'salesforce'], { entry: 'bin/provisioner.mjs', env });
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('salesforce is not in API_CALLERS (callers: crm); make its first token with api-token create salesforce');
    const wrongHash = await run(['api-token', 'revoke', 'crm', '--hash', `sha256:${tokenHash('nope')}`], { entry: 'bin/provisioner.mjs', env });
    expect(wrongHash.code).toBe(2);
    expect(wrongHash.out).toContain('crm has no token with that hash');
  });
});
