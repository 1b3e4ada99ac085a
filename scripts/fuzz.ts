/**
 * `npm run fuzz`: property-based fuzzing (fast-check) of every door input
 * comes through: the intake parser, the Slack modal's reader, the CLI's
 * argument parsing (in-process, plus a sample of real `provisioner` runs),
 * the manifests loader, the Slack app over signed HTTP, the billing webhooks
 * (Stripe, Bunny) on the real server, the HTTP API's provisioning requests,
 * and Salesforce's Outbound Messages over HTTP (never an ack for a malformed
 * envelope).
 * Never a crash, never a 5xx, never a stack trace in text a person reads,
 * and every refusal names the field at fault.
 *
 *   npm run fuzz -- [--cases 10000] [--seed N] [--only <target>]
 *
 * The cases are shared out among the targets; the same seed and case count
 * give the same inputs. Findings go to stdout, progress to stderr; last line:
 *   fuzz: cases=… crashes=… unnamed=…
 * Exit code 1 when anything crashed or a refusal named no field.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../src/config.ts';
import { loadManifests } from '../src/manifests/load.ts';
import { stepTypes } from '../src/steps/registry.ts';
import { fuzzBillingWebhooks } from './fuzz/billing-webhooks.ts';
import { fuzzApi } from './fuzz/api-http.ts';
import { fuzzCliParsing, fuzzCliProcesses } from './fuzz/cli.ts';
import { errorText, Findings } from './fuzz/findings.ts';
import { fuzzIntake, fuzzModal } from './fuzz/intake.ts';
import { fuzzManifests } from './fuzz/manifests.ts';
import { fuzzSalesforce } from './fuzz/salesforce.ts';
import { fuzzSlack } from './fuzz/slack-http.ts';

const ROOT = resolve(import.meta.dirname, '..');
const say = (line: string): void => void process.stderr.write(`[fuzz] ${line}\n`);

const { values } = parseArgs({ options: { cases: { type: 'string', default: '10000' }, seed: { type: 'string' }, only: { type: 'string' } } });
const cases = Number(values.cases);
const seed = values.seed === undefined ? randomBytes(4).readUInt32BE() >>> 1 : Number(values.seed);
if (!Number.isInteger(cases) || cases < 10) throw new Error(`--cases must be a whole number of at least 10, got ${values.cases}`);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number, got ${values.seed}`);

// A real `provisioner` process takes a second or more: one in 500 cases is one.
const processes = Math.max(3, Math.round(cases / 500));
const share = (fraction: number) => Math.round(cases * fraction);
const plan = {
  intake: share(0.25),
  modal: share(0.15),
  manifests: share(0.15),
  slack: share(0.15),
  billing: share(0.1),
  api: share(0.05),
  salesforce: share(0.05),
  processes,
};
const parsing = cases - plan.intake - plan.modal - plan.manifests - plan.slack - plan.billing - plan.api - plan.salesforce - processes;

const findings = new Findings();
let current = 'setup';
process.on('uncaughtException', (err) => findings.crash(current, -1, `uncaught exception ${errorText(err)}`, ''));
// A fuzzer that stops half-way must not look like one that found nothing.
process.on('exit', (code) => {
  if (current === 'done') return;
  process.stderr.write(`[fuzz] stopped in the middle of ${current} (exit code ${code}): the run is incomplete\n`);
  process.exitCode = 2;
});
process.on('unhandledRejection', (err) => findings.crash(current, -1, `unhandled rejection ${errorText(err)}`, ''));

async function target(name: string, work: () => Promise<void> | void): Promise<void> {
  if (values.only !== undefined && values.only !== name) return;
  current = name;
  const started = Date.now();
  try {
    await work();
  } catch (err) {
    // The fuzzer's own failure (a generator, a server it needs), not a finding: stop and say so.
    say(`the fuzzer itself failed in ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(2);
  }
  say(`${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

say(`seed ${seed}, ${cases} cases (reproduce with: npm run fuzz -- --seed ${seed} --cases ${cases})`);
const repo = { MANIFESTS_DIR: resolve(ROOT, 'manifests'), SEED_MANIFESTS_DIR: resolve(ROOT, 'seed-manifests') };
const config = loadConfig({ ...process.env, ...repo });
const { plans } = loadManifests({ manifestsDir: config.manifestsDir, seedDir: config.seedDir, stepTypes, sampleTenantSettings: config.tenant });

await target('intake', () => fuzzIntake(findings, plans, plan.intake, seed));
await target('slack modal', () => fuzzModal(findings, plans, plan.modal, seed + 1));
await target('manifests', () => fuzzManifests(findings, plan.manifests, seed + 2));
await target('cli parsing', () => fuzzCliParsing(findings, config, parsing, seed + 3));
let slackRefusals = 0;
await target('slack webhooks', async () => {
  slackRefusals = (await fuzzSlack(findings, plan.slack, seed + 4)).slackRefusals;
});
await target('billing webhooks', () => fuzzBillingWebhooks(findings, plan.billing, seed + 8));
await target('salesforce', () => fuzzSalesforce(findings, plan.salesforce, seed + 6));
await target('api', () => fuzzApi(findings, plan.api, seed + 7));
await target('cli processes', () => withScratchSpace((env) => fuzzCliProcesses(findings, env, plan.processes, seed + 5)));
current = 'done';

for (const line of findings.report()) console.log(line);
if (findings.failures.length > 0) {
  const file = join(tmpdir(), `fuzz-${seed}-examples.jsonl`);
  writeFileSync(file, `${findings.examples()}\n`);
  console.log(`whole inputs of these examples: ${file}`);
}
console.log(`Slack refused a reply the listeners tried to send (a channel or user the payload made up): ${slackRefusals}`);
console.log(`seed: ${seed} (npm run fuzz -- --seed ${seed} --cases ${cases})`);
console.log(`fuzz: cases=${findings.caseCount()} crashes=${findings.total('crash')} unnamed=${findings.total('unnamed')}`);
process.exit(findings.total('crash') + findings.total('unnamed') > 0 ? 1 : 0);

/** Real CLI runs get a queue prefix, database and tenant namespace of their own, removed afterwards. */
async function withScratchSpace(work: (env: Record<string, string>) => Promise<void>): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const env = {
    ...repo,
    QUEUE_PREFIX: `fz${id}`,
    MONGODB_DB: `fuzz_${id}`,
    BASE_DOMAIN: `fz${id}.tenants.test`,
    SECRET_PREFIX: `fz${id}/tenants`,
    SHARED_DATABASE: `fuzz_shared_${id}`,
    PROVISIONER_OPERATOR: 'fuzz',
  };
  try {
    await work(env);
  } finally {
    const redis = new Redis(config.redisUrl);
    await redis.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", 0, `fz${id}:*`);
    await redis.quit();
    const mongo = new MongoClient(config.mongoUri);
    await mongo.db(env.MONGODB_DB).dropDatabase();
    await mongo.close();
  }
}
