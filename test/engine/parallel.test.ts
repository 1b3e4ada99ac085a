import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dealFor, liveView, startTestApp, stepOf, stopTestApp, timesOf, waitForStatus, waitForStep, type TestApp } from '../support/harness.ts';
import { appWithWorkersPerTest, stopWorker } from '../support/start-worker.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 300, resource: 'database' }),
  sandbox('dns', { latencyMs: 300, resource: 'dns record' }),
  sandbox('billing', { latencyMs: 10, resource: 'subscription' }, { needs: ['database', 'dns'] }),
);

describe('independent steps run at the same time', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ pipeline: PIPELINE });
  });
  afterEach(async () => {
    await stopTestApp(app);
  });

  it('runs two 300 ms siblings concurrently: each starts before the other has finished', async () => {
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');

    const [db, rec, bill] = [timesOf(stepOf(live, 'database')), timesOf(stepOf(live, 'dns')), timesOf(stepOf(live, 'billing'))];
    // Each sibling started before the other finished: their run times overlap.
    expect(db.startedAt).toBeLessThan(rec.finishedAt);
    expect(rec.startedAt).toBeLessThan(db.finishedAt);
    // The join waits for both.
    expect(bill.startedAt).toBeGreaterThanOrEqual(Math.max(db.finishedAt, rec.finishedAt));
    // How much faster that makes a job is the benchmark's to measure (npm run bench), not a timed test's:
    // on a loaded machine wall-clock bounds say more about the machine than about the engine.

    const { creations } = await app.ledger.inventory();
    expect(Object.values(creations)).toEqual(['1', '1', '1']);
  });
});

/** database releases three 300 ms steps at once; each writes its own resource. */
const FAN_OUT = pipelineOf(
  sandbox('database', { resource: 'database' }),
  sandbox('dns', { latencyMs: 300, resource: 'dns record' }, { needs: ['database'] }),
  sandbox('storage', { latencyMs: 300, resource: 'bucket' }, { needs: ['database'] }),
  sandbox('secrets', { latencyMs: 300, resource: 'secret' }, { needs: ['database'] }),
);

/** [start, finish] of each step, by id. */
function runTimes(view: Awaited<ReturnType<typeof waitForStatus>>, ids: readonly string[]): [number, number][] {
  return ids.map((id) => {
    const { startedAt, finishedAt } = timesOf(stepOf(view, id));
    return [startedAt, finishedAt];
  });
}

/** The step jobs BullMQ was given (queued steps), by step id: a carried step has none. */
async function queuedSteps(app: TestApp): Promise<string[]> {
  const jobKey = `${app.prefix}:steps:`;
  const keys = await app.engine.redis.keys(`${jobKey}*__*`);
  // Only the job hashes, not their locks or logs.
  return keys
    .filter((key) => !key.slice(jobKey.length).includes(':'))
    .map((key) => key.split('__')[1] ?? '')
    .sort();
}

describe('a step that releases several steps carries them all on, never running more at once than the process has slots', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  it('with free slots, all three start at once in the worker that released them, and none goes through the queue', async () => {
    app = await startTestApp({ pipeline: FAN_OUT });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    const times = runTimes(live, ['dns', 'storage', 'secrets']);
    // Every one started before any other finished.
    for (const [startedAt] of times) for (const [, finishedAt] of times) expect(startedAt).toBeLessThan(finishedAt);
    expect(await queuedSteps(app)).toEqual(['database']);
    const { creations } = await app.ledger.inventory();
    expect(Object.values(creations)).toEqual(['1', '1', '1', '1']);
  });

  it('with one slot (WORKER_CONCURRENCY=1), they run one after another, the two waiting for the slot in the same worker', async () => {
    app = await startTestApp({ pipeline: FAN_OUT, env: { WORKER_CONCURRENCY: '1' } });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    const times = runTimes(live, ['dns', 'storage', 'secrets']).sort((x, y) => x[0] - y[0]);
    // Never two at once: each started once the one before had finished.
    for (let i = 1; i < times.length; i++) expect(times[i]?.[0]).toBeGreaterThanOrEqual(times[i - 1]?.[1] ?? Number.NaN);
    expect(await queuedSteps(app)).toEqual(['database']);
    const { creations } = await app.ledger.inventory();
    expect(Object.values(creations)).toEqual(['1', '1', '1', '1']);
  });
});

describe('a worker asked to stop while carried steps wait for its one slot', () => {
  const w = appWithWorkersPerTest();

  it('finishes the step it runs, hands the waiting ones to the queue, and the next worker runs each once', async () => {
    const app = await w.startApp(FAN_OUT);
    const first = await w.startWorker(app, { env: { WORKER_CONCURRENCY: '1' } });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    // dns runs in the slot database finished in; storage and secrets wait in that process for it.
    await waitForStep(app, job.jobId, 'dns', ['running']);
    await stopWorker(first, 'SIGTERM');

    const stopped = await liveView(app, job.jobId);
    expect(stepOf(stopped, 'dns').state).toBe('succeeded');
    // Never started there: handed to the queue as they were, ready and unclaimed.
    expect([stepOf(stopped, 'storage').state, stepOf(stopped, 'secrets').state]).toEqual(['ready', 'ready']);
    expect(await queuedSteps(app)).toEqual(['database', 'secrets', 'storage']);

    await w.startWorker(app);
    expect((await waitForStatus(app, job.jobId, ['live', 'failed'])).status).toBe('live');
    const { creations } = await app.ledger.inventory();
    expect(Object.values(creations)).toEqual(['1', '1', '1', '1']);
  });
});
