/**
 * What a step job carries, and what the engine records about a step: the
 * events of its activation and the wording of its failure, whoever records it
 * (its worker, or the queue when it gives up on the step's job).
 */
import { z } from 'zod';
import { ENGINE_ACTOR, type EventType, type JobEvent } from '../domain/events.ts';
import type { StepPatch } from '../domain/job-patch.ts';
import { stepLabel } from '../domain/job-view.ts';
import { redactText } from '../domain/redact.ts';

export const StepJobData = z.object({
  jobId: z.string(),
  stepId: z.string(),
  ticket: z.number().int(),
  phase: z.enum(['run', 'compensate']),
  /** Attempts a carried step made before it was handed back to the queue: they count against its retries. */
  attemptsBefore: z.number().int().min(0).optional(),
  /** Handed back while it was running: the worker carrying it stopped mid-step. */
  takenOver: z.boolean().optional(),
});
export type StepJobData = z.infer<typeof StepJobData>;

/** What a claim records: "Step X started", or "Undoing X". */
export function startedEvent(data: StepJobData): JobEvent {
  const label = stepLabel(data.stepId);
  return event(data, 'step.started', data.phase === 'run' ? `Step ${label} started` : `Undoing ${label}`);
}

export function event(data: StepJobData, type: EventType, summary: string, extra: Partial<JobEvent> = {}): JobEvent {
  return { type, jobId: data.jobId, stepId: data.stepId, phase: data.phase, at: Date.now(), actor: ENGINE_ACTOR, summary, ...extra };
}

export type StepFailure = { outcome: 'failed' | 'compensation_failed'; event: JobEvent; patch: StepPatch };

/**
 * How a failed run or undo is recorded, whoever gives up on it (its worker, or the queue): one wording, and
 * fields that replace whatever an earlier failure left (its finish time, its trace). `message` is redacted;
 * `attempts` is said when the step gave up on a temporary problem.
 */
export function stepFailure(data: StepJobData, failure: { message: string; trace: string; attempts?: number }): StepFailure {
  const { message, trace, attempts } = failure;
  const label = stepLabel(data.stepId);
  const gaveUp = attempts === undefined ? '' : ` (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`;
  const recorded: StepPatch = { error: message, errorTrace: trace };
  if (data.phase === 'compensate') {
    const summary = `Could not undo ${label}: ${message}${gaveUp}`;
    return { outcome: 'compensation_failed', event: event(data, 'step.compensation_failed', summary, { error: message }), patch: recorded };
  }
  const summary = `Step ${label} failed: ${message}${gaveUp}`;
  return {
    outcome: 'failed',
    event: event(data, 'step.failed', summary, { error: message }),
    patch: { ...recorded, finishedAt: Date.now() },
  };
}

/** Longer traces are cut: the top frames say where it broke, and the job hash stays small. */
const TRACE_LIMIT = 8_000;

/** The error's stack (with its causes), redacted, for engineers reading the admin panel. */
export function traceOf(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    parts.push(depth === 0 ? (current.stack ?? String(current)) : `Caused by: ${current.stack ?? String(current)}`);
    current = current.cause;
  }
  const trace = redactText(parts.join('\n'));
  return trace.length > TRACE_LIMIT ? `${trace.slice(0, TRACE_LIMIT)}\n… (cut)` : trace;
}
