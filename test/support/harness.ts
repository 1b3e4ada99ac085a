/**
 * Each test gets its own app: its own queue prefix and database on the shared
 * Redis and MongoDB-wire servers started by scripts/with-services.ts, so the
 * suite runs in parallel and never depends on order.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../src/config.ts';
import { compose, type App, type ComposeOptions } from '../../src/compose.ts';
import type { JobView, StepView } from '../../src/domain/job-view.ts';
import type { JobStatus, StepState } from '../../src/domain/job.ts';
import { statusFromProvisioning } from '../../src/domain/tenant-status.ts';
import { startLocalEmulators, type LocalEmulators } from '../../src/emulators/emulators.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export type TestApp = App & {
  prefix: string;
  dbName: string;
  emulators: LocalEmulators | undefined;
  /** The variables this app was configured with on top of the environment (a worker process for it needs the same). */
  env: Readonly<Record<string, string>>;
};

export type TestAppOptions = Partial<ComposeOptions> & {
  /** A pipeline.yaml body to use instead of the repo's. */
  pipeline?: string;
  /** Start on the Redis prefix and database of an app that was closed (a restart), instead of fresh ones. */
  reuse?: { prefix: string; dbName: string };
  /** Extra environment for this app's configuration (e.g. the Slack settings). */
  env?: Record<string, string>;
  /** Start this app's own Stripe, Okta, SMTP and webhook emulators (default: when it runs the repo's real pipeline). */
  emulators?: boolean;
};

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const id = randomBytes(4).toString('hex');
  const prefix = opts.reuse?.prefix ?? `t${id}`;
  const dbName = opts.reuse?.dbName ?? `test_${id}`;
  const emulators = (opts.emulators ?? opts.pipeline === undefined) ? await startLocalEmulators(repoConfig()) : undefined;
  const env: Record<string, string> = {
    QUEUE_PREFIX: prefix,
    MONGODB_DB: dbName,
    WORKER_CONCURRENCY: '20',
    // Steps failing on purpose would fill the output with warnings; LOG_LEVEL=debug npm test … shows everything.
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'error',
    MANIFESTS_DIR: opts.pipeline === undefined ? join(ROOT, 'manifests') : manifestsWith(opts.pipeline),
    SEED_MANIFESTS_DIR: join(ROOT, 'seed-manifests'),
    // Real tenant resources are namespaced per app too: its own hosted zone, secret path and shared database.
    ...(emulators
      ? {
          ...emulators.env,
          BASE_DOMAIN: `${id}.tenants.test`,
          SECRET_PREFIX: `t${id}/tenants`,
          SHARED_DATABASE: `shared_${id}`,
          TENANT_BUCKET_PREFIX: `t${id}`,
        }
      : {}),
    ...opts.env,
  };
  const app = await compose(loadConfig({ ...process.env, ...env }), {
    runWorkers: opts.runWorkers ?? true,
    lockDurationMs: opts.lockDurationMs ?? 2_000,
    stalledIntervalMs: opts.stalledIntervalMs ?? 1_000,
    ...(opts.notifier ? { notifier: opts.notifier } : {}),
    ...(opts.serveSlack ? { serveSlack: true } : {}),
    ...(opts.serveWeb ? { serveWeb: true } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.reconcile ? { reconcile: opts.reconcile } : {}),
    onError: opts.onError ?? ((err) => console.error(`[${prefix}]`, err)),
  }).catch(async (err: unknown) => {
    await emulators?.close(); // a refused start must not leave servers listening
    throw err;
  });
  return { ...app, prefix, dbName, emulators, env };
}

/** The repository's manifests, whatever the working directory. */
function repoConfig() {
  return loadConfig({ MANIFESTS_DIR: join(ROOT, 'manifests'), SEED_MANIFESTS_DIR: join(ROOT, 'seed-manifests') });
}

/** One app per test: returns a starter, and stops whatever it started after each test. */
export function appPerTest(): (opts?: TestAppOptions) => Promise<TestApp> {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });
  return async (opts = {}) => (app = await startTestApp(opts));
}

export async function stopTestApp(app: TestApp): Promise<void> {
  await app.close();
  await app.emulators?.close();
  const redis = new Redis(app.config.redisUrl);
  await redis.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", 0, `${app.prefix}:*`);
  await redis.quit();
  const mongo = new MongoClient(app.config.mongoUri);
  await mongo.db(app.dbName).dropDatabase();
  await mongo.close();
}

function manifestsWith(pipeline: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ROOT, 'manifests/plans.yaml'), join(dir, 'plans.yaml'));
  copyFileSync(join(ROOT, 'manifests/billing-features.yaml'), join(dir, 'billing-features.yaml'));
  cpSync(join(ROOT, 'manifests/lifecycle'), join(dir, 'lifecycle'), { recursive: true });
  copyFileSync(join(ROOT, 'manifests/salesforce.yaml'), join(dir, 'salesforce.yaml'));
  writeFileSync(join(dir, 'pipeline.yaml'), pipeline);
  return dir;
}

let deal = 0;

/** The business fields an AE would type, for a deal that needs no approval unless overridden. */
export function dealFor(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  deal += 1;
  const slug = `acme-${randomBytes(3).toString('hex')}`;
  return {
    companyName: 'Acme Corp',
    slug,
    adminEmail: 'it-admin@acme.example',
    plan: 'starter',
    contractStartDate: new Date().toISOString().slice(0, 10),
    contractValue: 12_000,
    dataResidency: 'us',
    featureOverrides: {},
    crmOpportunityId: `006TEST${deal}${randomBytes(3).toString('hex')}`,
    requestedBy: 'jane.ae',
    ...overrides,
  };
}

/** Waits until the job's live status is one of `statuses`; fails with the job's steps if it never gets there. */
export async function waitForStatus(app: App, jobId: string, statuses: readonly JobStatus[], timeoutMs = 20_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  let view: JobView | null = null;
  while (Date.now() < deadline) {
    view = await app.engine.view(jobId);
    if (view && statuses.includes(view.status)) return view;
    await sleep(25);
  }
  const steps = view?.steps.map((s) => `${s.id}=${s.state}${s.error ? ` (${s.error})` : ''}`).join(', ');
  throw new Error(`job ${jobId} did not reach ${statuses.join('/')} within ${timeoutMs} ms; it is ${view?.status}: ${steps}`);
}

/** Waits until the recorder has written a view at least as new as the live one. */
export async function waitForRecord(app: App, jobId: string, timeoutMs = 20_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const live = await app.engine.view(jobId);
    const stored = await app.store.getJob(jobId);
    if (live && stored && stored.view.seq >= live.seq && (await tenantFollows(app, stored.view))) return stored.view;
    await sleep(50);
  }
  throw new Error(`the store never caught up with job ${jobId}`);
}

/** The recorder writes a provisioning job's tenant status just after its view: whether that has happened too. */
async function tenantFollows(app: App, view: JobView): Promise<boolean> {
  const tenant = await app.store.tenant(view.tenant.slug);
  if (!tenant || tenant.jobId !== view.jobId || tenant.movedBy) return true;
  return tenant.status === statusFromProvisioning(view.status);
}

export function stepStates(view: JobView): Record<string, string> {
  return Object.fromEntries(view.steps.map((s) => [s.id, s.state]));
}

export function stepsById(view: JobView): Record<string, StepView> {
  return Object.fromEntries(view.steps.map((s) => [s.id, s]));
}

/** One step of the job; fails naming the steps it has when there is no such step. */
export function stepOf(view: JobView, id: string): StepView {
  const step = view.steps.find((s) => s.id === id);
  if (!step) throw new Error(`job ${view.jobId} has no step "${id}" (its steps: ${view.steps.map((s) => s.id).join(', ')})`);
  return step;
}

export type StepTimes = { startedAt: number; finishedAt: number; durationMs: number };

/** When a finished step started and finished, and how long it took; fails if it has not started or not finished. */
export function timesOf(step: StepView): StepTimes {
  const { startedAt, finishedAt, durationMs } = step;
  if (startedAt === undefined) throw new Error(`step ${step.id} has not started (it is ${step.state})`);
  if (finishedAt === undefined || durationMs === undefined) throw new Error(`step ${step.id} has not finished (it is ${step.state})`);
  return { startedAt, finishedAt, durationMs };
}

/** The job's live state in Redis; fails if there is none. */
export async function liveView(app: App, jobId: string): Promise<JobView> {
  const view = await app.engine.view(jobId);
  if (!view) throw new Error(`job ${jobId} has no live state`);
  return view;
}

/** The job's view as the store holds it; fails if the store has no such job. */
export async function storedView(app: App, jobId: string): Promise<JobView> {
  const stored = await app.store.getJob(jobId);
  if (!stored) throw new Error(`job ${jobId} is not in the store`);
  return stored.view;
}

/** Waits until one step of the job is in one of `states`. */
export async function waitForStep(app: App, jobId: string, stepId: string, states: readonly StepState[], timeoutMs = 20_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  let view: JobView | null = null;
  while (Date.now() < deadline) {
    view = await app.engine.view(jobId);
    const step = view?.steps.find((s) => s.id === stepId);
    if (view && step && states.includes(step.state)) return view;
    await sleep(10);
  }
  throw new Error(
    `step ${stepId} of job ${jobId} did not reach ${states.join('/')} within ${timeoutMs} ms; job is ${view ? JSON.stringify(stepStates(view)) : 'missing'}`,
  );
}

/** The job's audit trail (as `provisioner audit` prints it), once the recorder has caught up with the job. */
export async function auditOf(app: App, job: Pick<JobView, 'jobId' | 'tenant'>, opts: { verbose?: boolean } = {}) {
  await waitForRecord(app, job.jobId);
  const audit = await app.service.audit(job.tenant.slug, opts);
  return { ...audit, text: audit.lines.join('\n') };
}
