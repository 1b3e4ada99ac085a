import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { dealFor, liveView, stepStates, waitForRecord, waitForStatus, waitForStep, type TestApp } from '../support/harness.ts';
import { appWithWorkersPerTest, stopWorker } from '../support/start-worker.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { stepField } from '../../src/engine/job-hash.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 50, countRuns: true, resource: 'database' }),
  sandbox('seed_data', { latencyMs: 1500, countRuns: true, resource: 'seed data' }, { needs: ['database'] }),
  sandbox('billing', { latencyMs: 50, countRuns: true, resource: 'subscription' }, { needs: ['seed_data'] }),
);

/** How many times a step's run began (the sandbox counts them with countRuns). */
async function startsOf(app: TestApp, jobId: string, stepId: string): Promise<number> {
  return Number(await app.engine.redis.hget(`${app.engine.keys.sandbox()}:counters`, `${jobId}.${stepId}:starts`));
}

/** BullMQ's processedBy of the step's current queue job: the worker name of the process that took it. */
/** The process that claimed the step last, as the engine records it (a carried step has no queue job of its own). */
async function runnerOf(app: TestApp, jobId: string, stepId: string): Promise<string | null> {
  return app.engine.redis.hget(app.engine.keys.jobState(jobId), stepField('runner', stepId));
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

describe('a worker process dies in the middle of a step', () => {
  const w = appWithWorkersPerTest();

  it('another worker picks the step up again; every resource is created exactly once', async () => {
    const app = await w.startApp(PIPELINE);
    const first = await w.startWorker(app);

    const { job } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStep(app, job.jobId, 'seed_data', ['running']);
    // Claimed is not enough: wait until the step's own code is under way (it takes 1.5 s), then kill the process.
    await until(async () => (await startsOf(app, job.jobId, 'seed_data')) === 1);
    // The step's queue job names the process running it, so an operator (or the chaos run) knows whom it waits on.
    expect(await runnerOf(app, job.jobId, 'seed_data')).toBe(`${hostname()}-${first.pid}`);
    await stopWorker(first, 'SIGKILL');
    expect(first.signalCode).toBe('SIGKILL');
    // Nobody is left to finish it.
    const orphaned = await liveView(app, job.jobId);
    expect(stepStates(orphaned)).toEqual({ database: 'succeeded', seed_data: 'running', billing: 'pending' });

    await w.startWorker(app);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed'], 20_000);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', seed_data: 'succeeded', billing: 'succeeded' });

    const { creations, resources } = await app.ledger.inventory();
    expect(creations).toEqual({ [`${job.jobId}.database`]: '1', [`${job.jobId}.seed_data`]: '1', [`${job.jobId}.billing`]: '1' });
    expect(Object.keys(resources)).toHaveLength(3);
    // The killed step really ran twice; the others once.
    expect(await startsOf(app, job.jobId, 'database')).toBe(1);
    expect(await startsOf(app, job.jobId, 'seed_data')).toBe(2);
    expect(await startsOf(app, job.jobId, 'billing')).toBe(1);
    const stored = await waitForRecord(app, job.jobId);
    expect(stored.status).toBe('live');
    const { lines } = await app.service.audit(job.tenant.slug);
    expect(lines.filter((l) => l.includes('seed data created'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(`Tenant ${job.tenant.slug} is live`))).toHaveLength(1);
    expect(lines.some((l) => l.includes('Step seed data picked up again after a worker stopped mid-step'))).toBe(true);
  });

  it('killed after the call succeeded but before it was recorded: the new worker checks, finds it done and does not call again', async () => {
    const app = await w.startApp(SETTLING_PIPELINE);
    const first = await w.startWorker(app);

    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const created = `${job.jobId}.seed_data`;
    await until(async () => (await app.ledger.inventory()).creations[created] === '1');
    await stopWorker(first, 'SIGKILL');
    expect((await app.engine.view(job.jobId))?.steps.find((s) => s.id === 'seed_data')?.state).toBe('running');

    await w.startWorker(app);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed'], 20_000);
    expect(live.status).toBe('live');
    expect((await app.ledger.inventory()).creations[created]).toBe('1');
    // The check found the resource, so the step's run was not started a second time.
    expect(await startsOf(app, job.jobId, 'seed_data')).toBe(1);
  });
});

const SETTLING_PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 20, resource: 'database' }),
  sandbox('seed_data', { latencyMs: 20, settleMs: 1500, countRuns: true, resource: 'seed data' }, { needs: ['database'] }),
  sandbox('billing', { latencyMs: 20, resource: 'subscription' }, { needs: ['seed_data'] }),
);
