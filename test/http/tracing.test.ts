/**
 * With an OTLP endpoint configured, a provisioning job leaves a trace across
 * the queue: each step job queued is a producer span, and the worker's span
 * for that step is its child in the same trace, wherever the step ran; a step
 * carried on by the worker that released it is a span inside that worker's.
 * The spans reach a real OTLP/HTTP receiver.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { queueJobId } from '../../src/engine/keys.ts';
import { dealFor, startTestApp, stopTestApp, waitForStatus } from '../support/harness.ts';
import { captureLog } from '../support/log-capture.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

// database is queued (a root step); it releases two steps, which its worker carries on.
const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 10 }),
  sandbox('billing', { latencyMs: 10 }, { needs: ['database'] }),
  sandbox('edge', { latencyMs: 10 }, { needs: ['database'] }),
);

const INTERNAL = 1;
const PRODUCER = 4;
const CONSUMER = 5;

describe('OpenTelemetry traces', () => {
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
    // The OpenTelemetry SDK reads its standard variables from the environment itself.
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url);
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http/json');
    vi.stubEnv('OTEL_BSP_SCHEDULE_DELAY', '100');
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await receiver.close();
  });

  it("a step worker's span is the child of the span that queued the step, and a carried step's the child of its carrier's, in one trace at the OTLP receiver", async () => {
    const log = captureLog();
    const app = await startTestApp({
      pipeline: PIPELINE,
      logger: createLogger({ level: 'debug', format: 'json', destination: log.stream }),
    });
    let jobId = '';
    try {
      expect(app.config.observability.tracing).toEqual({ serviceName: 'tenant-provisioner' });
      jobId = (await app.service.provision(dealFor(), REQUESTER)).job.jobId;
      await waitForStatus(app, jobId, ['live']);
    } finally {
      // Closing flushes the spans still buffered.
      await stopTestApp(app);
    }
    const spans = await spansFor(
      receiver,
      ['database', 'billing', 'edge'].map((stepId) => queueJobId(jobId, { stepId, ticket: 1, phase: 'run' })),
    );
    const queued = spans.filter((s) => s.kind === CONSUMER);
    const carried = spans.filter((s) => s.kind === INTERNAL);
    expect(queued).toHaveLength(1);
    expect(carried).toHaveLength(2);

    for (const processed of queued) {
      expect(processed).toMatchObject({ name: 'process steps', service: 'tenant-provisioner' });
      const producer = receiver.spans().find((s) => s.spanId === processed.parentSpanId);
      expect(producer, `the span that queued ${processed.attributes['bullmq.job.id']}`).toMatchObject({
        name: 'addBulk steps',
        kind: PRODUCER,
        traceId: processed.traceId,
      });
    }
    for (const span of carried) {
      const carrier = receiver.spans().find((s) => s.spanId === span.parentSpanId);
      expect(span.name).toMatch(/^carry (billing|edge)$/);
      expect(carrier, `the span of the job that carried ${span.attributes['bullmq.job.id']}`).toMatchObject({
        name: 'process steps',
        kind: CONSUMER,
        traceId: span.traceId,
      });
    }
    for (const span of spans) {
      // The worker's log line for the step names the span it was written in.
      const stepId = String(span.attributes['bullmq.job.id']).split('__')[1];
      const line = log.lines().find((l) => l['jobId'] === jobId && l['stepId'] === stepId && l['outcome'] === 'succeeded');
      expect(line).toMatchObject({ trace_id: span.traceId, span_id: span.spanId });
    }
  });
});

/** The worker spans of the given step jobs (queued, or carried on), once the receiver has them. */
async function spansFor(receiver: OtlpReceiver, queueJobIds: readonly string[]): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = queueJobIds.map((id) =>
      receiver
        .spans()
        .find((s) => (s.kind === CONSUMER || (s.kind === INTERNAL && s.name.startsWith('carry '))) && s.attributes['bullmq.job.id'] === id),
    );
    const all = found.filter((s): s is ReceivedSpan => s !== undefined);
    if (all.length === queueJobIds.length) return all;
    if (Date.now() > deadline) {
      throw new Error(
        `the receiver has ${receiver.spans().length} spans: ${receiver
          .spans()
          .map((s) => `${s.name}(${s.attributes['bullmq.job.id'] ?? ''})`)
          .join(', ')}`,
      );
    }
    await sleep(50);
  }
}
