/**
 * What happened to a job, one fact at a time. Events feed the audit trail,
 * the progress message and the terminal; `summary` is a plain sentence a
 * non-engineer can read, written when the event is made.
 */
import { z } from 'zod';
import type { Phase, Release } from './actions.ts';

export const EVENT_TYPES = [
  'job.created',
  'job.live',
  'job.cancelled',
  'job.rollback_started',
  'job.rollback_retried',
  'job.rollback_finished',
  'step.started',
  'step.resumed',
  'step.polling',
  'step.reminder',
  'step.retrying',
  'step.succeeded',
  'step.failed',
  'step.waiting_approval',
  'step.waiting_input',
  'step.approved',
  'step.rejected',
  'step.input_provided',
  'step.retried',
  'step.overridden',
  'step.compensated',
  'step.compensation_failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type JobEvent = {
  type: EventType;
  jobId: string;
  stepId?: string;
  phase?: Phase;
  /** Epoch milliseconds. */
  at: number;
  actor: string;
  summary: string;
  reason?: string;
  error?: string;
  durationMs?: number;
  attempt?: number;
  /** Steps this event let go ahead; the dispatcher queues them. */
  released?: Release[];
  /** Position in the job's history, set when the event is stored with its state change. */
  seq?: number;
};

/** The actor for what the engine does by itself. */
export const ENGINE_ACTOR = 'provisioner';

const ReleaseSchema = z.object({ stepId: z.string(), ticket: z.number(), phase: z.enum(['run', 'compensate']), carried: z.boolean().optional() });

const JobEventSchema = z.object({
  type: z.enum(EVENT_TYPES),
  jobId: z.string(),
  stepId: z.string().optional(),
  phase: z.enum(['run', 'compensate']).optional(),
  at: z.number(),
  actor: z.string(),
  summary: z.string(),
  reason: z.string().optional(),
  error: z.string().optional(),
  durationMs: z.number().optional(),
  attempt: z.number().optional(),
  // Redis's Lua encodes an empty list as an empty object.
  released: z.union([z.array(ReleaseSchema), z.object({}).transform((): z.infer<typeof ReleaseSchema>[] => [])]).optional(),
  seq: z.number().optional(),
});

/** Reads an event back from the stream; null for anything malformed. */
export function parseEvent(text: string): JobEvent | null {
  try {
    const parsed = JobEventSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
