/**
 * An SRE points Prometheus at the provisioner. After real jobs ran on the
 * sandbox pipeline, /metrics says what happened: how long each step type
 * took and how it ended, what was retried and what failed, how many jobs are
 * in each status, which approval waits and for how long, how deep the queue
 * is and how far behind the recorder runs, plus Node's process metrics.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { appPerTest, dealFor, waitForRecord, waitForStatus } from '../support/harness.ts';
import { httpServerPerTest } from '../support/http.ts';
import { sample, scrape, type Sample } from '../support/prometheus.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 30 }),
  sandbox('dns', { latencyMs: 10, failTransientTimes: 1 }, { retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } } }),
  sandbox('billing', { latencyMs: 10 }, { needs: ['database', 'dns'] }),
  sandbox('welcome_email', { failPermanently: true }, { needs: ['billing'], criticality: 'notification' }),
);

describe('Prometheus metrics', () => {
  const startApp = appPerTest();
  const serve = httpServerPerTest();

  it('after a job goes live and another waits for approval, /metrics shows steps, retries, failures, jobs, approvals, queue and recorder lag', async () => {
    const app = await startApp({ pipeline: PIPELINE });
    const url = await serve(app);
    const live = (await app.service.provision(dealFor(), REQUESTER)).job;
    // A growth deal of 150,000 needs the deal desk: its approval gate waits.
    const parked = (await app.service.provision(dealFor({ plan: 'growth', contractValue: 150_000 }), REQUESTER)).job;
    await waitForStatus(app, live.jobId, ['live']);
    await waitForStatus(app, parked.jobId, ['awaiting_approval']);
    await waitForRecord(app, live.jobId);
    const waiting = await waitForRecord(app, parked.jobId);
    const gateStarted = waiting.steps.find((s) => s.id === 'approval_gate')?.startedAt ?? Number.NaN;

    const { contentType, samples } = await scrape(url);
    expect(contentType).toContain('text/plain');

    // Step durations by type and outcome: database, dns and billing succeeded; the email failed; the gate waits.
    const count = (labels: Record<string, string>) => sample(samples, 'provisioner_step_duration_seconds_count', labels);
    expect(count({ step_type: 'sandbox', outcome: 'succeeded' })).toBe(3);
    expect(count({ step_type: 'sandbox', outcome: 'failed' })).toBe(1);
    expect(count({ step_type: 'approval', outcome: 'waiting_approval' })).toBe(1);
    // The database step alone sleeps 30 ms: the succeeded steps' durations add up to at least that.
    expect(sample(samples, 'provisioner_step_duration_seconds_sum', { step_type: 'sandbox', outcome: 'succeeded' })).toBeGreaterThanOrEqual(0.03);
    expect(sample(samples, 'provisioner_step_duration_seconds_bucket', { step_type: 'sandbox', outcome: 'succeeded', le: '+Inf' })).toBe(3);

    expect(sample(samples, 'provisioner_step_retries_total', { step_type: 'sandbox', phase: 'run' })).toBe(1);
    expect(sample(samples, 'provisioner_step_failures_total', { step_type: 'sandbox', phase: 'run' })).toBe(1);

    // Jobs by status, every status present (0 when no job has it).
    const jobs = (status: string) => sample(samples, 'provisioner_jobs', { status });
    expect(jobs('live')).toBe(1);
    expect(jobs('awaiting_approval')).toBe(1);
    expect(jobs('failed')).toBe(0);
    expect(jobs('running')).toBe(0);

    expect(sample(samples, 'provisioner_approvals_waiting')).toBe(1);
    const oldest = sample(samples, 'provisioner_approval_oldest_age_seconds');
    expect(oldest).toBeGreaterThan(0);
    expect(oldest).toBeLessThanOrEqual((Date.now() - gateStarted) / 1000);

    // The recorder stored every event (two jobs' worth), each some milliseconds after it happened.
    const audited = (await app.service.audit(live.tenant.slug, { verbose: true })).entries.length;
    expect(sample(samples, 'provisioner_recorder_lag_seconds_count')).toBeGreaterThanOrEqual(audited);
    expect(sample(samples, 'provisioner_recorder_lag_seconds_sum')).toBeGreaterThan(0);
    // Once the workers and consumer groups are done (BullMQ completes a step job, and a group acknowledges
    // events, a moment after the state change): three step jobs completed (database, dns, retried in the same
    // job, and the approval gate; billing and the welcome email were carried on in the job of the step that
    // released them), nothing waits in the queue, and every group has read and acknowledged every event.
    const settled = (s: readonly Sample[]) => ({
      completed: sample(s, 'provisioner_queue_jobs', { queue: 'steps', state: 'completed' }),
      waiting: sample(s, 'provisioner_queue_jobs', { queue: 'steps', state: 'waiting' }),
      active: sample(s, 'provisioner_queue_jobs', { queue: 'steps', state: 'active' }),
      backlog: ['dispatcher', 'recorder'].flatMap((group) => [
        sample(s, 'provisioner_event_stream_pending', { group }),
        sample(s, 'provisioner_event_stream_lag', { group }),
      ]),
      // This process's step slots (the test apps run 20): all free again, nothing waiting for one.
      slots: [sample(s, 'provisioner_step_slots', { state: 'busy' }), sample(s, 'provisioner_step_slots', { state: 'free' })],
      waitingForSlot: sample(s, 'provisioner_steps_waiting_for_slot'),
    });
    const expected = { completed: 3, waiting: 0, active: 0, backlog: [0, 0, 0, 0], slots: [0, 20], waitingForSlot: 0 };
    const deadline = Date.now() + 15_000;
    for (let seen = settled(samples); JSON.stringify(seen) !== JSON.stringify(expected); seen = settled((await scrape(url)).samples)) {
      if (Date.now() > deadline) expect(seen).toEqual(expected);
      await sleep(200);
    }

    // Node's own process metrics come along.
    expect(sample(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });
});
