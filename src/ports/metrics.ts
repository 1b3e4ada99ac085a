/**
 * What the engine measures, and how the HTTP server shows the measurements.
 * The engine records through EngineMetrics and never sees the metrics
 * library; the adapter (src/adapters/metrics.ts) turns these calls into
 * Prometheus series.
 */
import type { Phase } from '../domain/actions.ts';
import type { StepState } from '../domain/job.ts';

/** The states a step's activation can leave it in. */
export type StepOutcome = Extract<StepState, 'succeeded' | 'failed' | 'waiting_approval' | 'waiting_input' | 'compensated' | 'compensation_failed'>;

export interface EngineMetrics {
  /** A step reached an outcome, `durationMs` after it started (its first attempt, for a run; undefined when not known). */
  stepFinished(step: { type: string; phase: Phase; outcome: StepOutcome; durationMs: number | undefined }): void;
  /** A step hit a temporary problem and will be tried again. */
  stepRetrying(step: { type: string; phase: Phase }): void;
  /** The recorder stored events; each lag is how long after the event happened. */
  eventsRecorded(lagsMs: readonly number[]): void;
}

export const noEngineMetrics: EngineMetrics = {
  stepFinished: () => undefined,
  stepRetrying: () => undefined,
  eventsRecorded: () => undefined,
};

/** Figures read when metrics are scraped (cheap queries, cached briefly by the adapter). */
export type SampledFigures = {
  /** Jobs per status, as stored. */
  jobsByStatus(): Promise<Readonly<Record<string, number>>>;
  /** Steps waiting for an approver, and since when the oldest has waited (epoch ms). */
  approvalsWaiting(): Promise<{ count: number; oldestSince: number | undefined }>;
  /** Step queue jobs per BullMQ state (waiting, active, delayed…). */
  queueDepth(): Promise<Readonly<Record<string, number>>>;
  /** Per consumer group of the event stream: delivered but not acknowledged, and not yet delivered. */
  eventStream(): Promise<readonly { group: string; pending: number; lag: number | undefined }[]>;
  /**
   * This process's step slots (WORKER_CONCURRENCY): busy, free, and steps waiting for one (queue jobs taken, and
   * steps this process carries on); undefined in a process that runs no steps.
   */
  stepSlots(): Promise<{ busy: number; free: number; waiting: number } | undefined>;
};

/** The text a scraper reads on GET /metrics. */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}
