/**
 * The crash window between a step finishing and its worker queueing the steps
 * it released: the dispatcher consumer group repairs it from the event stream.
 */
import { describe, expect, it } from 'vitest';
import { ENGINE_ACTOR, type JobEvent } from '../../src/domain/events.ts';
import { queueJobId } from '../../src/engine/keys.ts';
import { dealFor, stepStates, waitForStatus } from '../support/harness.ts';
import { appWithWorkersPerTest } from '../support/start-worker.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { resource: 'database' }),
  sandbox('seed_data', { resource: 'seed data' }, { needs: ['database'] }),
  sandbox('billing', { resource: 'subscription' }, { needs: ['seed_data'] }),
);

function stepEvent(jobId: string, type: JobEvent['type'], summary: string, stepId = 'database'): JobEvent {
  return { type, jobId, stepId, phase: 'run', at: Date.now(), actor: ENGINE_ACTOR, summary };
}

describe('a worker records a step as done and dies before queueing the steps it released', () => {
  const w = appWithWorkersPerTest();

  it('the next worker queues the released step from the event stream, and the finished step is not run again', async () => {
    const app = await w.startApp(PIPELINE);
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    // What a worker does up to its crash: claim, finish (which releases seed_data), and nothing more.
    const claim = await app.engine.state.claim(job.jobId, 'database', 1, 'run', stepEvent(job.jobId, 'step.started', 'Step database started'));
    expect(claim.status).toBe('ok');
    const released = await app.engine.state.finish(
      job.jobId,
      { stepId: 'database', ticket: 1, phase: 'run' },
      'succeeded',
      stepEvent(job.jobId, 'step.succeeded', 'database done'),
      {},
    );
    expect(released).toEqual({ released: [{ stepId: 'seed_data', ticket: 1, phase: 'run' }], carried: [] });

    await w.startWorker(app);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', seed_data: 'succeeded', billing: 'succeeded' });
    // database "ran" in the dead worker (outside the sandbox here): nobody ran it again.
    const { creations } = await app.ledger.inventory();
    expect(creations).toEqual({ [`${job.jobId}.seed_data`]: '1', [`${job.jobId}.billing`]: '1' });
  });
});

describe('a worker records a step as done, starts the step it carries on, and dies before running it', () => {
  const w = appWithWorkersPerTest();

  it('the finish claims the carried step at once; the carrying job comes back and hands it back, and it runs once', async () => {
    const app = await w.startApp(PIPELINE);
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    // The step job the dead worker held: BullMQ hands it out again once its lock is gone.
    const carrier = queueJobId(job.jobId, { stepId: 'database', ticket: 1, phase: 'run' });
    await app.engine.state.claim(job.jobId, 'database', 1, 'run', stepEvent(job.jobId, 'step.started', 'Step database started'), 'dead-worker');
    const finished = await app.engine.state.finish(
      job.jobId,
      { stepId: 'database', ticket: 1, phase: 'run' },
      'succeeded',
      stepEvent(job.jobId, 'step.succeeded', 'database done'),
      { finishedAt: Date.now() },
      {
        carrier,
        runner: 'dead-worker',
        starts: 1,
        started: { seed_data: stepEvent(job.jobId, 'step.started', 'Step seed data started', 'seed_data') },
      },
    );

    // Carried and claimed in the one change: seed_data is running on the dead worker, its start in the trail.
    expect(finished?.released).toEqual([{ stepId: 'seed_data', ticket: 1, phase: 'run', carried: true }]);
    expect(finished?.carried.map((c) => c.status)).toEqual(['ok']);
    const state = await app.engine.state.read(job.jobId);
    expect(state?.steps.get('seed_data')?.state).toBe('running');
    const started = await app.engine.redis.xrevrange(app.engine.keys.events(), '+', '-', 'COUNT', 1);
    expect(JSON.parse(String(started[0]?.[1][1]))).toMatchObject({ type: 'step.started', stepId: 'seed_data', summary: 'Step seed data started' });

    await w.startWorker(app);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    const { creations } = await app.ledger.inventory();
    expect(creations).toEqual({ [`${job.jobId}.seed_data`]: '1', [`${job.jobId}.billing`]: '1' });
    // The trail says the step was picked up again, since it may have started on the worker that died.
    const events = (await app.engine.redis.xrange(app.engine.keys.events(), '-', '+')).map(([, fields]) => JSON.parse(String(fields[1])));
    expect(events.filter((e) => e.jobId === job.jobId && e.stepId === 'seed_data').map((e) => e.type)).toEqual([
      'step.started',
      'step.resumed',
      'step.succeeded',
    ]);
  });
});
