/**
 * A worker killed at any line must not create a second customer or secret.
 * Real billing, secrets and DNS steps against the Stripe emulator and moto:
 * the vendor carries out a call, but its answer is held back until after the
 * worker process has been SIGKILLed ("it worked, nobody heard"). Another
 * worker takes the step over; the tenant goes live with every resource
 * exactly once. The other steps run in parallel and are cut off wherever
 * they happen to be, which is part of the claim too.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/domain/job-view.ts';
import { pricesForPlans, startStripeFake, type StripeFake } from '../../src/emulators/stripe-fake.ts';
import { auditOf, dealFor, startTestApp, stepsById, stopTestApp, waitForStatus, type TestApp } from '../support/harness.ts';
import { startRoute53PendingProxy, type Route53PendingProxy } from '../support/route53-pending-proxy.ts';
import { startWorker as startWorkerProcess, stopWorker } from '../support/start-worker.ts';
import { resourcesOf, tenantOfJob } from '../support/tenant-resources.ts';
import { serverUrl } from '../support/servers.ts';
import { REQUESTER } from '../support/people.ts';

/** The real steps with their configs from manifests/pipeline.yaml; short waits so a test takes seconds. */
const PIPELINE = `
version: 1
steps:
  - id: database
    type: tenant_database
    config:
      tenantId: \${tenant.tenantId}
      database: \${tenant.databaseName}
      isolation: \${tenant.isolation}
  - id: secrets
    type: tenant_secrets
    needs: [database]
    config:
      path: \${tenant.secretPath}
      tenantId: \${tenant.tenantId}
  - id: billing
    type: billing
    needs: [database]
    retry: { attempts: 6, backoff: { type: exponential, delayMs: 100 } }
    config:
      tenantId: \${tenant.tenantId}
      customerName: \${intake.companyName}
      customerEmail: \${intake.adminEmail}
      metadata: \${tenant.billingMetadata}
      priceRef: \${plan.billing.priceRef}
      trialDays: \${plan.billing.trialDays}
      contractStartDate: \${intake.contractStartDate}
      meters: \${plan.billing.meters}
  - id: dns
    type: dns_record
    timeoutMs: 10000
    pollTimeoutMs: 600000
    config:
      name: \${tenant.dnsName}
      type: CNAME
      values: ['\${settings.dnsRecordTarget}']
      ttl: \${settings.dnsRecordTtl}
      pollEveryMs: 100
`;

/** Long enough that the worker is always dead before the held answer would arrive. */
const HELD_MS = 60_000;
/** Route 53 says PENDING this many times per change before INSYNC. */
const PENDING_POLLS = 3;

type World = { app: TestApp; stripe: StripeFake; proxy: Route53PendingProxy; first: ChildProcess };

function motoUrl(): string {
  const url = serverUrl('AWS_ENDPOINT_URL');
  return url;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** Secrets Manager's own list (straight from moto), with ARNs. */
async function secretsNamed(path: string): Promise<{ name: string; arn: string }[]> {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: motoUrl(),
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    const listed = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [path] }] }));
    return (listed.SecretList ?? []).filter((s) => s.Name === path).map((s) => ({ name: path, arn: s.ARN ?? '' }));
  } finally {
    client.destroy();
  }
}

// Two worker processes start per test, on a machine that may be busy: more room than the default minute.
describe('a worker is SIGKILLed after a vendor carried out its call but before the worker heard back', { timeout: 120_000 }, () => {
  /** What each test started, stopped last-started first (workers before the app, the app before the servers it uses). */
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startWorker(app: TestApp): Promise<ChildProcess> {
    const worker = await startWorkerProcess(app);
    cleanups.push(() => stopWorker(worker, 'SIGTERM'));
    return worker;
  }

  /**
   * The app only submits; one separate worker process does all the work,
   * through the AWS proxy. `searchLagMs`: a Stripe of our own whose search
   * lags behind writes, as Stripe's does (up to a minute).
   */
  async function startWorld(opts: { searchLagMs?: number } = {}): Promise<World> {
    const proxy = await startRoute53PendingProxy({ target: motoUrl(), pendingPolls: PENDING_POLLS });
    cleanups.push(() => proxy.close());
    const lagging = opts.searchLagMs === undefined ? undefined : await startStripeFake({ searchIndexDelayMs: opts.searchLagMs });
    if (lagging) cleanups.push(() => lagging.close());
    const env = { AWS_ENDPOINT_URL: proxy.url, ...(lagging ? { STRIPE_API_URL: lagging.url } : {}) };
    const app = await startTestApp({ pipeline: PIPELINE, emulators: true, runWorkers: false, env });
    cleanups.push(() => stopTestApp(app));
    if (lagging) for (const price of pricesForPlans(app.manifests.plans.plans)) lagging.addPrice(price);
    const stripe = lagging ?? app.emulators?.stripe;
    if (stripe === undefined) throw new Error('the app was started without its emulators');
    return { app, stripe, proxy, first: await startWorker(app) };
  }

  /** Kills the first worker once the call has landed, checks nobody recorded it, and lets a second worker finish the job. */
  async function killThenTakeOver(w: World, job: JobView, stepId: string, landed: () => boolean | Promise<boolean>): Promise<JobView> {
    await until(landed, `the ${stepId} call has landed`);
    await stopWorker(w.first, 'SIGKILL');
    expect(w.first.signalCode).toBe('SIGKILL');
    const orphaned = await w.app.engine.view(job.jobId);
    expect(orphaned && stepsById(orphaned)[stepId]?.state).toBe('running');

    await startWorker(w.app);
    const done = await waitForStatus(w.app, job.jobId, ['live', 'failed'], 40_000);
    expect(done.status, JSON.stringify(done.steps.map((s) => [s.id, s.state, s.error]))).toBe('live');
    return done;
  }

  /** Every resource of the tenant exactly once, and the secret is the one the job recorded. */
  async function expectEachResourceOnce(w: World, live: JobView): Promise<void> {
    const { tenant } = await tenantOfJob(w.app, live.jobId);
    const made = await resourcesOf(w.app, live.jobId);
    const customers = w.stripe.customersFor(tenant.tenantId).map((c) => c.id);
    const subscriptions = w.stripe.liveSubscriptionsFor(tenant.tenantId);
    expect(customers).toHaveLength(1);
    expect(subscriptions.map((s) => s.status)).toEqual(['trialing']);
    expect(made.dnsRecords).toEqual([`CNAME edge.${w.app.config.tenant.baseDomain}`]);
    expect(w.proxy.changeIds()).toHaveLength(1);
    const secrets = await secretsNamed(tenant.secretPath);
    expect(secrets).toHaveLength(1);

    const steps = stepsById(live);
    expect(steps['secrets']?.outputs['arn']).toBe(secrets[0]?.arn);
    expect(steps['billing']?.outputs['customerId']).toBe(customers[0]);
    expect(steps['billing']?.outputs['subscriptionId']).toBe(subscriptions[0]?.id);
    expect(subscriptions[0]?.customer).toBe(customers[0]);
  }

  async function expectPickedUpAgain(w: World, live: JobView, label: string): Promise<void> {
    const { lines } = await auditOf(w.app, live);
    expect(lines.some((l) => l.includes(`Step ${label} picked up again after a worker stopped mid-step`))).toBe(true);
    expect(lines.filter((l) => l.includes(`Tenant ${live.tenant.slug} is live`))).toHaveLength(1);
  }

  /** Stripe calls that really created something (not refused, not replayed from an idempotency key). */
  function creations(stripe: StripeFake, path: string): number {
    return stripe.requests().filter((r) => r.method === 'POST' && r.path === path && r.status === 200 && !r.replayed).length;
  }

  it('Stripe creates the customer, the worker dies before it hears back; the next worker goes live with one customer and one subscription', async () => {
    const w = await startWorld();
    w.stripe.holdNext(1, HELD_MS, '/v1/customers', 'POST');
    const { job } = await w.app.service.provision(dealFor(), REQUESTER);
    const tenantId = `tnt_${job.tenant.slug}`;

    const live = await killThenTakeOver(w, job, 'billing', () => w.stripe.customersFor(tenantId).length === 1);
    await expectEachResourceOnce(w, live);
    expect(creations(w.stripe, '/v1/customers')).toBe(1);
    expect(creations(w.stripe, '/v1/subscriptions')).toBe(1);
    await expectPickedUpAgain(w, live, 'billing');
  });

  it("Stripe's search lags behind the customer created before the crash; the next worker's create replays it by idempotency key", async () => {
    const w = await startWorld({ searchLagMs: 120_000 });
    w.stripe.holdNext(1, HELD_MS, '/v1/customers', 'POST');
    const { job } = await w.app.service.provision(dealFor(), REQUESTER);
    const tenantId = `tnt_${job.tenant.slug}`;

    const live = await killThenTakeOver(w, job, 'billing', () => w.stripe.customersFor(tenantId).length === 1);
    await expectEachResourceOnce(w, live);
    expect(creations(w.stripe, '/v1/customers')).toBe(1);
    // Search could not see the customer, so the second worker asked again under the same key and got the same one back.
    expect(w.stripe.requests().filter((r) => r.path === '/v1/customers' && r.replayed)).toHaveLength(1);
  });

  it('Stripe creates the subscription, the worker dies before it hears back; the next worker finds it and creates no second one', async () => {
    const w = await startWorld();
    w.stripe.holdNext(1, HELD_MS, '/v1/subscriptions', 'POST');
    const { job } = await w.app.service.provision(dealFor(), REQUESTER);
    const tenantId = `tnt_${job.tenant.slug}`;

    const live = await killThenTakeOver(w, job, 'billing', () => w.stripe.liveSubscriptionsFor(tenantId).length === 1);
    await expectEachResourceOnce(w, live);
    expect(creations(w.stripe, '/v1/customers')).toBe(1);
    expect(creations(w.stripe, '/v1/subscriptions')).toBe(1);
    await expectPickedUpAgain(w, live, 'billing');
  });

  it('Secrets Manager stores the secret, the worker dies before it hears back; the next worker adopts that very secret', async () => {
    const w = await startWorld();
    w.proxy.holdNext(1, HELD_MS, 'secretsmanager.CreateSecret');
    const { job } = await w.app.service.provision(dealFor(), REQUESTER);
    const path = `${w.app.config.tenant.secretPrefix}/${job.tenant.slug}`;

    const live = await killThenTakeOver(w, job, 'secrets', async () => (await secretsNamed(path)).length === 1);
    await expectEachResourceOnce(w, live);
    await expectPickedUpAgain(w, live, 'secrets');
  });

  it('the DNS step is killed while polling Route 53; the next worker resumes polling the same change and goes live with one record', async () => {
    const w = await startWorld();
    // The first GetChange poll is answered (PENDING) only after the worker is dead.
    w.proxy.holdNext(1, HELD_MS, '/2013-04-01/change/');
    const { job } = await w.app.service.provision(dealFor(), REQUESTER);

    const firstPollLanded = () => w.proxy.changeIds().some((id) => w.proxy.pollsOf(id) === 1);
    const live = await killThenTakeOver(w, job, 'dns', firstPollLanded);
    await expectEachResourceOnce(w, live);
    // One change (the record was not written again), polled on past PENDING by the second worker.
    const [changeId = ''] = w.proxy.changeIds();
    expect(w.proxy.pollsOf(changeId)).toBe(PENDING_POLLS + 1);
    expect(stepsById(live)['dns']?.outputs['changeId']).toContain(changeId);
  });
});
