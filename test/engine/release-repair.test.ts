/**
 * The crash window between a step finishing and its worker queueing the steps
 * it released: the dispatcher consumer group repairs it from the event stream.
 */
import { describe, expect, it } from 'vitest';
import { ENGINE_ACTOR, type JobEvent } from '../../src/domain/events.ts';
import { dealFor, stepStates, waitForStatus } from '../support/harness.ts';
import { appWithWorkersPerTest } from '../support/start-worker.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { resource: 'database' }),
  sandbox('seed_data', { resource: 'seed data' }, { needs: ['database'] }),
  sandbox('billing', { resource: 'subscription' }, { needs: ['seed_data'] }),
);

function stepEvent(jobId: string, type: JobEvent['type'], summary: string): JobEvent {
  return { type, jobId, stepId: 'database', phase: 'run', at: Date.now(), actor: ENGINE_ACTOR, summary };
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
    expect(released).toEqual([{ stepId: 'seed_data', ticket: 1, phase: 'run' }]);

    await w.startWorker(app);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', seed_data: 'succeeded', billing: 'succeeded' });
    // database "ran" in the dead worker (outside the sandbox here): nobody ran it again.
    const { creations } = await app.ledger.inventory();
    expect(creations).toEqual({ [`${job.jobId}.seed_data`]: '1', [`${job.jobId}.billing`]: '1' });
  });
});
