/**
 * BullMQ gives up on a step job that stalled too often (or whose worker kept
 * failing) without the step recording an outcome; the engine then records the
 * step as failed itself. It must read like any other failure of the step.
 */
import { describe, expect, it } from 'vitest';
import { ENGINE_ACTOR } from '../../src/domain/events.ts';
import { noEngineMetrics } from '../../src/ports/metrics.ts';
import { recordAbandoned } from '../../src/engine/abandoned-step.ts';
import { STEP_QUEUE } from '../../src/engine/engine.ts';
import { queueJobId } from '../../src/engine/keys.ts';
import { queueReleases } from '../../src/engine/dispatcher.ts';
import { Queue } from 'bullmq';
import { auditOf, dealFor, liveView, stepOf, timesOf, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { appWithWorkersPerTest, stopWorker } from '../support/start-worker.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { failPermanentTimes: 1, resource: 'database' }),
  sandbox('billing', { resource: 'subscription' }, { needs: ['database'] }),
);

async function ticketOf(app: TestApp, jobId: string, stepId: string): Promise<number> {
  const step = (await app.engine.state.read(jobId))?.steps.get(stepId);
  if (!step) throw new Error(`job ${jobId} has no live step "${stepId}"`);
  return step.ticket;
}

describe('a step job the queue gives up on', () => {
  const w = appWithWorkersPerTest();

  it('fails the step with the same wording as a worker would, its own finish time, and no trace left from an earlier failure', async () => {
    const app = await w.startApp(PIPELINE);
    const worker = await w.startWorker(app);
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const firstFailure = await waitForStatus(app, job.jobId, ['failed', 'live']);
    expect(stepOf(firstFailure, 'database').errorTrace).toContain('rejected by the sandbox (run 1)');
    await stopWorker(worker, 'SIGTERM');

    // Retried; a worker claims the step again, and then the queue gives up on its job.
    await app.service.retry(job.tenant.slug, person('jane.ae'));
    const data = { jobId: job.jobId, stepId: 'database', ticket: await ticketOf(app, job.jobId, 'database'), phase: 'run' as const };
    const started = { type: 'step.started' as const, ...data, at: Date.now(), actor: ENGINE_ACTOR, summary: 'Step database started' };
    expect((await app.engine.state.claim(data.jobId, data.stepId, data.ticket, 'run', started)).status).toBe('ok');
    const observers = { log: app.logger, metrics: noEngineMetrics, definitions: app.engine.definitions };
    await recordAbandoned(app.engine.state, observers, data, 'job stalled more than allowable limit');

    const view = await liveView(app, job.jobId);
    expect(view.status).toBe('failed');
    const database = stepOf(view, 'database');
    expect(database).toMatchObject({ state: 'failed', error: 'job stalled more than allowable limit' });
    expect(database.errorTrace).toBeUndefined();
    const { startedAt, finishedAt } = timesOf(database);
    expect(startedAt).toBeGreaterThan(timesOf(stepOf(firstFailure, 'database')).finishedAt);
    expect(finishedAt).toBeGreaterThanOrEqual(startedAt);

    // A worker (which also records the audit) starts again: the given-up job left in the queue changes nothing.
    await w.startWorker(app);
    const { lines } = await auditOf(app, job);
    expect(stepOf(await liveView(app, job.jobId), 'database').state).toBe('failed');
    expect(lines.filter((l) => l.includes('Step database failed: '))).toEqual([
      expect.stringContaining('Step database failed: database: rejected by the sandbox (run 1)'),
      expect.stringContaining('Step database failed: job stalled more than allowable limit'),
    ]);
  });
});

describe('BullMQ fails a step job that stalled more often than allowed', () => {
  const w = appWithWorkersPerTest();

  it("the next worker to fetch it fails it, and the engine records the step failed with the queue's reason", async () => {
    const app = await w.startApp(PIPELINE);
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    // A worker claimed the step and kept dying; BullMQ's stalled check, on the last stall it allows, marks
    // the step job to be failed by whoever fetches it next (its "defa" field), and puts it back in the queue.
    const data = { jobId: job.jobId, stepId: 'database', ticket: 1, phase: 'run' as const };
    const started = { type: 'step.started' as const, ...data, at: Date.now(), actor: ENGINE_ACTOR, summary: 'Step database started' };
    expect((await app.engine.state.claim(data.jobId, data.stepId, data.ticket, 'run', started)).status).toBe('ok');
    const queue = new Queue(STEP_QUEUE, { connection: app.engine.redis, prefix: app.prefix });
    const definition = await app.engine.definitions.get(job.jobId);
    if (!definition) throw new Error('the job has no definition');
    await queueReleases(queue, definition, [{ stepId: 'database', ticket: 1, phase: 'run' }]);
    await app.engine.redis.hset(`${app.prefix}:${STEP_QUEUE}:${queueJobId(job.jobId, data)}`, 'defa', 'job stalled more than allowable limit');

    await w.startWorker(app);
    const view = await waitForStatus(app, job.jobId, ['failed', 'live']);
    expect(view.status).toBe('failed');
    expect(stepOf(view, 'database')).toMatchObject({ state: 'failed', error: 'job stalled more than allowable limit' });
    expect(stepOf(view, 'billing').state).toBe('pending');
    // The sandbox never ran it: the queue gave up before any worker did.
    expect((await app.ledger.inventory()).creations).toEqual({});
  });
});
