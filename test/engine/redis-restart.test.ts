import { afterEach, describe, expect, it } from 'vitest';
import { OwnRedis } from '../support/own-redis.ts';
import { auditOf, dealFor, startTestApp, stopTestApp, waitForStatus, waitForStep, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const STEPS = ['database', 'dns', 'seed_data', 'billing'];
const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 400, resource: 'database' }),
  sandbox('dns', { latencyMs: 250, resource: 'dns record' }),
  sandbox('seed_data', { latencyMs: 700, resource: 'seed data' }, { needs: ['database'] }),
  sandbox('billing', { latencyMs: 300, resource: 'subscription' }, { needs: ['seed_data', 'dns'] }),
);

describe('Redis restarts in the middle of a run', () => {
  let redis: OwnRedis | undefined;
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    await redis?.stop();
    app = undefined;
    redis = undefined;
  });

  it('every job still goes live, each resource is created once, and the audit is complete', async () => {
    const own = await OwnRedis.start();
    redis = own;
    const errors: unknown[] = [];
    const started = await startTestApp({ pipeline: PIPELINE, env: { REDIS_URL: own.url }, onError: (err) => errors.push(err) });
    app = started;
    const jobs = (await Promise.all(Array.from({ length: 4 }, () => started.service.provision(dealFor(), REQUESTER)))).map((p) => p.job);
    // Mid-run: first steps under way or done, later ones not started yet. Down for longer than a step's BullMQ lock.
    await waitForStep(started, jobs[0]?.jobId ?? '', 'database', ['running', 'succeeded']);
    await own.restart(2_500);

    for (const job of jobs) expect((await waitForStatus(app, job.jobId, ['live', 'failed'], 30_000)).status).toBe('live');
    // The workers and consumers are still at work after the restart: a new job goes through too.
    const { job: after } = await app.service.provision(dealFor(), REQUESTER);
    expect((await waitForStatus(app, after.jobId, ['live', 'failed'], 30_000)).status).toBe('live');

    const all = [...jobs, after];
    const { creations, resources } = await app.ledger.inventory();
    const expected = Object.fromEntries(all.flatMap((job) => STEPS.map((step) => [`${job.jobId}.${step}`, '1'])));
    expect(creations).toEqual(expected);
    expect(Object.keys(resources).sort()).toEqual(Object.keys(expected).sort());
    for (const job of all) {
      const { text } = await auditOf(app, job);
      for (const created of ['database created', 'dns record created', 'seed data created', 'subscription created']) {
        expect(text.split('\n').filter((line) => line.includes(created))).toHaveLength(1);
      }
      expect(text.split('\n').filter((line) => line.includes(`Tenant ${job.tenant.slug} is live`))).toHaveLength(1);
      expect((await app.store.getJob(job.jobId))?.view.status).toBe('live');
    }
    // What went wrong meanwhile was the outage itself: connections refused or reset, and BullMQ's step locks
    // lapsing (their jobs are picked up again as stalled, and the state scripts tell them the step moved on; a
    // job picked up again while its first worker was still carrying steps on refuses that worker's completion).
    const outage = /ECONNREFUSED|ECONNRESET|Connection is closed|could not renew lock|Missing lock for job|Lock mismatch for job/;
    expect(errors.map(String).filter((e) => !outage.test(e))).toEqual([]);
  }, 120_000);
});
