/**
 * The store (the MongoDB-wire server) restarts under a running product, as an
 * operator restarts it and as it crashes. The driver's server monitor can get
 * stuck across such a restart (see src/adapters/mongo-client.ts); the product
 * must notice, reconnect, bound every store call meanwhile, and lose nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import type { JobView } from '../../src/domain/job-view.ts';
import { lostEvents, recorderCaughtUp } from '../../scripts/chaos/records.ts';
import { dealFor, startTestApp, stopTestApp, waitForStatus, waitForStep, type TestApp } from '../support/harness.ts';
import { OwnStore, type StoreRestart } from '../support/own-store.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 400, resource: 'database' }),
  sandbox('dns', { latencyMs: 250, resource: 'dns record' }),
  sandbox('seed_data', { latencyMs: 900, resource: 'seed data' }, { needs: ['database'] }),
  sandbox('billing', { latencyMs: 300, resource: 'subscription' }, { needs: ['seed_data', 'dns'] }),
);

/** No store call may take longer than this, whatever the server does (serverSelectionTimeoutMS is 10 s). */
const CALL_BOUND_MS = 20_000;
/** After the server is back, calls must succeed again within this (a stalled monitor is replaced after 15 s). */
const RECOVERY_MS = 30_000;

/** Store calls made without pause by a few loops, each call's outcome and duration noted. */
class StoreTraffic {
  lastSuccess = 0;
  longestMs = 0;
  private written = 0;
  readonly failures: unknown[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(app: TestApp, loops: number) {
    this.loops = Array.from({ length: loops }, (_, i) => this.loop(app, i));
  }

  private async loop(app: TestApp, i: number): Promise<void> {
    while (this.running) {
      const started = Date.now();
      try {
        // What the recorder does all day: read a job, append to the audit trail.
        await app.store.getJob(`job-${i}`);
        await app.store.appendAudit([auditEntry(i, ++this.written)]);
        this.lastSuccess = Date.now();
      } catch (err) {
        this.failures.push(err);
        await sleep(100);
      } finally {
        this.longestMs = Math.max(this.longestMs, Date.now() - started);
      }
    }
  }

  /** Stops the loops; false if one of them is still inside a call after `withinMs`. */
  async stop(withinMs: number): Promise<boolean> {
    this.running = false;
    return Promise.race([Promise.all(this.loops).then(() => true), sleep(withinMs).then(() => false)]);
  }
}

function auditEntry(loop: number, n: number): AuditEntry {
  const at = new Date();
  return {
    id: `job-${loop}:${n}`,
    jobId: `job-${loop}`,
    tenantSlug: 'acme',
    companyName: 'Acme Corp',
    at,
    type: 'step.started',
    actor: 'engine',
    summary: `call ${n}`,
  };
}

async function recoveredAfter(traffic: StoreTraffic, since: number): Promise<boolean> {
  const deadline = Date.now() + RECOVERY_MS;
  while (Date.now() < deadline) {
    if (traffic.lastSuccess > since) return true;
    await sleep(50);
  }
  return false;
}

/** The stored view, once it shows `status`; null if it never does (store calls failing meanwhile are retried). */
async function storedView(app: TestApp, jobId: string, status: JobView['status']): Promise<JobView | null> {
  const deadline = Date.now() + RECOVERY_MS;
  while (Date.now() < deadline) {
    const stored = await app.store.getJob(jobId).catch(() => null);
    if (stored?.view.status === status) return stored.view;
    await sleep(200);
  }
  return null;
}

describe('the store restarts in the middle of a run', () => {
  let store: OwnStore | undefined;
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    await store?.stop();
    app = undefined;
    store = undefined;
  });

  async function startAgainst(own: OwnStore, errors: unknown[]): Promise<TestApp> {
    const started = await startTestApp({ pipeline: PIPELINE, env: { MONGODB_URI: own.url }, onError: (err) => errors.push(err) });
    app = started;
    return started;
  }

  it('store calls never hang, fail only as "store unavailable", and work again after every restart', async () => {
    const own = await OwnStore.start();
    store = own;
    const started = await startAgainst(own, []);
    // Many calls in flight make the driver's stall likely (it needs a failing read to wake the monitor while
    // the monitor's own connection is half torn down); how likely depends on the machine's load.
    const traffic = new StoreTraffic(started, 16);
    const restarts = Array.from({ length: 12 }, (_, i): StoreRestart => (i % 2 === 0 ? 'graceful' : 'crash'));
    const unrecovered: string[] = [];
    for (const [i, how] of restarts.entries()) {
      await sleep(300 + ((i * 397) % 1200));
      await own.restart(how);
      const back = Date.now();
      if (!(await recoveredAfter(traffic, back))) unrecovered.push(`restart ${i + 1} (${how})`);
    }
    expect(unrecovered).toEqual([]);
    expect(await traffic.stop(CALL_BOUND_MS)).toBe(true);
    expect(traffic.longestMs).toBeLessThan(CALL_BOUND_MS);
    expect(traffic.failures.filter((err) => !(err instanceof StoreUnavailableError)).map(String)).toEqual([]);
  }, 600_000);

  it('a provisioning run across a crash and a restart of the store goes live, with its stored view and audit complete', async () => {
    const own = await OwnStore.start();
    store = own;
    const errors: unknown[] = [];
    const started = await startAgainst(own, errors);
    const jobs = (await Promise.all(Array.from({ length: 4 }, () => started.service.provision(dealFor(), REQUESTER)))).map((p) => p.job);
    await waitForStep(started, jobs[0]?.jobId ?? '', 'database', ['running', 'succeeded']);
    await own.restart('crash');
    await waitForStep(started, jobs[0]?.jobId ?? '', 'seed_data', ['running', 'succeeded'], 30_000);
    await own.restart('graceful');

    for (const job of jobs) expect((await waitForStatus(started, job.jobId, ['live', 'failed'], 60_000)).status).toBe('live');
    // A job submitted after the restarts goes through the store as well.
    const { job: after } = await started.service.provision(dealFor(), REQUESTER);
    expect((await waitForStatus(started, after.jobId, ['live', 'failed'], 60_000)).status).toBe('live');

    for (const job of [...jobs, after]) expect((await storedView(started, job.jobId, 'live'))?.status).toBe('live');
    const redis = new Redis(started.config.redisUrl);
    const checker = new MongoClient(own.url);
    try {
      expect(await recorderCaughtUp(redis, started.engine.keys.events(), RECOVERY_MS)).toBe(true);
      const { lost } = await lostEvents(redis, started.engine.keys.events(), checker.db(started.dbName));
      expect(lost).toEqual([]);
    } finally {
      redis.disconnect();
      await checker.close();
    }
    // What went wrong meanwhile was the store being away, named as such.
    expect(errors.filter((err) => !(err instanceof StoreUnavailableError)).map(String)).toEqual([]);
  }, 300_000);
});
