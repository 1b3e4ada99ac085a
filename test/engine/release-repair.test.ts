/**
 * The crash window between a step finishing and its worker queueing the steps
 * it released: the dispatcher consumer group repairs it from the event stream.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_ACTOR, type JobEvent } from '../../src/domain/events.ts';
import { startTestApp, dealFor, stepStates, stopTestApp, waitForStatus, type TestApp } from '../support/harness.ts';
import { startWorker, stopWorker } from '../support/start-worker.ts';

const PIPELINE = `
version: 1
steps:
  - { id: database, type: sandbox, config: { resource: database } }
  - { id: seed_data, type: sandbox, needs: [database], config: { resource: seed data } }
  - { id: billing, type: sandbox, needs: [seed_data], config: { resource: subscription } }
`;

function stepEvent(jobId: string, type: JobEvent['type'], summary: string): JobEvent {
  return { type, jobId, stepId: 'database', phase: 'run', at: Date.now(), actor: ENGINE_ACTOR, summary };
}

describe('a worker records a step as done and dies before queueing the steps it released', () => {
  let app: TestApp | undefined;
  const workers: ChildProcess[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await stopWorker(w, 'SIGTERM');
    if (app) await stopTestApp(app);
    app = undefined;
  });

  it('the next worker queues the released step from the event stream, and the finished step is not run again', async () => {
    app = await startTestApp({ pipeline: PIPELINE, runWorkers: false });
    const { job } = await app.service.provision(dealFor());
    // What a worker does up to its crash: claim, finish (which releases seed_data), and nothing more.
    const claim = await app.engine.state.claim(job.jobId, 'database', 1, 'run', stepEvent(job.jobId, 'step.started', 'Step database started'));
    expect(claim.status).toBe('ok');
    const released = await app.engine.state.finish(job.jobId, { stepId: 'database', ticket: 1, phase: 'run' }, 'succeeded', stepEvent(job.jobId, 'step.succeeded', 'database done'), {});
    expect(released).toEqual([{ stepId: 'seed_data', ticket: 1, phase: 'run' }]);

    workers.push(await startWorker(app));
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', seed_data: 'succeeded', billing: 'succeeded' });
    // database "ran" in the dead worker (outside the sandbox here): nobody ran it again.
    const { creations } = await app.ledger.inventory();
    expect(creations).toEqual({ [`${job.jobId}.seed_data`]: '1', [`${job.jobId}.billing`]: '1' });
  });
});
