/**
 * A step job BullMQ gave up on without the step recording an outcome (it
 * stalled too often, or the worker itself kept failing): recorded as failed,
 * so the job does not wait forever. A no-op if the step moved on.
 */
import { redactText } from '../domain/redact.ts';
import type { Log } from '../ports/logger.ts';
import type { EngineMetrics } from '../ports/metrics.ts';
import type { DefinitionCache } from './definitions.ts';
import type { JobStateStore } from './job-state.ts';
import { StepJobData, stepFailure } from './step-records.ts';

export type Observers = { log: Log; metrics: EngineMetrics; definitions: DefinitionCache };

export async function recordAbandoned(state: JobStateStore, observers: Observers, raw: unknown, reason: string): Promise<void> {
  const parsed = StepJobData.safeParse(raw);
  if (!parsed.success) return;
  const data = parsed.data;
  const message = redactText(reason);
  // No trace: no error was thrown in the step; what BullMQ says is the message.
  const { outcome, event, patch } = stepFailure(data, { message, trace: '' });
  const recorded = await state.finish(data.jobId, data, outcome, event, patch);
  if (recorded === null) return; // the step had moved on
  const type = (await observers.definitions.get(data.jobId))?.steps.find((s) => s.id === data.stepId)?.type ?? 'unknown';
  observers.metrics.stepFinished({ type, phase: data.phase, outcome, durationMs: undefined });
  observers.log
    .child({ jobId: data.jobId, stepId: data.stepId, stepType: type, phase: data.phase })
    .warn({ outcome, error: message }, 'step given up by the queue');
}
