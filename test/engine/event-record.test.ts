/**
 * What the finish script writes to the event stream is what the worker sent,
 * byte for byte, with the job's sequence number (and the steps it released)
 * put in front: the audit shows a step's exact duration and wording, and a
 * step the finish starts itself gets its "started" event at a time no earlier
 * than the event that released it.
 */
import { describe, expect, it } from 'vitest';
import { ENGINE_ACTOR, type JobEvent, parseEvent } from '../../src/domain/events.ts';
import { JOB_FIELD, stepField, transitionFields } from '../../src/engine/job-hash.ts';
import { appPerTest, type TestApp } from '../support/harness.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

/** A job whose `database` step is running (ticket 1) and whose `dns` step waits for it; history at seq 3. */
async function jobWithDatabaseRunning(app: TestApp): Promise<string> {
  const jobId = `event-record-${Math.random().toString(36).slice(2, 10)}`;
  const fields = transitionFields('forward', 0, [
    { stepId: 'database', state: 'running', ticket: 1, remaining: 0 },
    { stepId: 'dns', state: 'pending', ticket: 0, remaining: 1 },
  ]);
  fields[stepField('criticality', 'database')] = 'blocking';
  fields[stepField('criticality', 'dns')] = 'blocking';
  fields[stepField('dependents', 'database')] = JSON.stringify(['dns']);
  fields[stepField('dependents', 'dns')] = JSON.stringify([]);
  await app.engine.redis.hset(app.engine.keys.jobState(jobId), { ...fields, [JOB_FIELD.seq]: 3 });
  return jobId;
}

/** The job's entries in the event stream, as the raw JSON the script wrote. */
async function streamOf(app: TestApp, jobId: string): Promise<string[]> {
  const entries = await app.engine.redis.xrange(app.engine.keys.events(), '-', '+');
  return entries.map(([, fields]) => fields[1] ?? '').filter((json) => json.includes(`"jobId":"${jobId}"`));
}

describe('the event a finished step leaves in the stream', () => {
  const start = appPerTest();

  it('is the worker’s own JSON with its sequence number and releases in front; the step it starts is stamped after it', async () => {
    const app = await start({ pipeline: pipelineOf(sandbox('unused')), runWorkers: false });
    const jobId = await jobWithDatabaseRunning(app);
    const finished: JobEvent = {
      type: 'step.succeeded',
      jobId,
      stepId: 'database',
      phase: 'run',
      at: Date.now(),
      actor: ENGINE_ACTOR,
      // 17 significant digits: Redis's Lua JSON encoder would have kept 14.
      durationMs: 1234.5678901234567,
      summary: 'Step "Tenant database" succeeded — schema v12 ✓',
    };
    const dnsStarted: JobEvent = {
      type: 'step.started',
      jobId,
      stepId: 'dns',
      phase: 'run',
      at: 1,
      actor: ENGINE_ACTOR,
      summary: 'Step DNS started',
    };

    const result = await app.engine.state.finish(
      jobId,
      { stepId: 'database', ticket: 1, phase: 'run' },
      'succeeded',
      finished,
      {},
      {
        carrier: 'queue-job-1',
        runner: 'host-1',
        starts: 1,
        started: { dns: dnsStarted },
      },
    );

    expect(result?.released).toEqual([{ stepId: 'dns', ticket: 1, phase: 'run', carried: true }]);
    expect(result?.carried).toHaveLength(1);
    const [finishJson, startedJson] = await streamOf(app, jobId);
    // The releases are Redis's JSON (its key order); what follows them is the worker's, to the byte.
    expect(finishJson?.startsWith('{"seq":4,"released":[{')).toBe(true);
    expect(finishJson?.endsWith(`}],${JSON.stringify(finished).slice(1)}`)).toBe(true);
    expect(parseEvent(finishJson ?? '')).toEqual({ ...finished, seq: 4, released: [{ stepId: 'dns', ticket: 1, phase: 'run', carried: true }] });
    const started = parseEvent(startedJson ?? '');
    expect(started).toEqual({ ...dnsStarted, seq: 5, at: expect.any(Number) });
    expect(started?.at).toBeGreaterThanOrEqual(finished.at);
    const state = await app.engine.state.read(jobId);
    expect(state?.steps.get('dns')?.state).toBe('running');
    expect(state?.seq).toBe(5);
  });

  it('keeps the script’s sequence number when the event sent already names one', async () => {
    const app = await start({ pipeline: pipelineOf(sandbox('unused')), runWorkers: false });
    const jobId = await jobWithDatabaseRunning(app);
    const finished: JobEvent = {
      type: 'step.failed',
      jobId,
      stepId: 'database',
      phase: 'run',
      at: Date.now(),
      actor: ENGINE_ACTOR,
      summary: 'failed',
      seq: 99,
    };

    await app.engine.state.finish(jobId, { stepId: 'database', ticket: 1, phase: 'run' }, 'failed', finished, {});

    const [finishJson] = await streamOf(app, jobId);
    expect(JSON.parse(finishJson ?? '')).toEqual({ ...finished, seq: 4 });
  });
});
