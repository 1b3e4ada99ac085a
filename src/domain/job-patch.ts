/**
 * What a step's outcome or an operator's action records beside the state
 * change itself, by name. How it is stored is the engine's business
 * (engine/job-hash.ts).
 */
import type { RollbackPurpose } from './job.ts';

export type StepPatch = {
  outputs?: Readonly<Record<string, unknown>>;
  finishedAt?: number;
  /** Since when the step has been polling its operation. */
  pollSince?: number;
  /** `null` clears what an earlier attempt left. */
  error?: string | null;
  errorTrace?: string | null;
  waitingFor?: string | null;
  approvedBy?: string;
  providedInput?: unknown;
  override?: { by: string; reason: string };
};

export type JobPatch = {
  steps?: Readonly<Record<string, StepPatch>>;
  /** What the job's rollback is for (absent: an undo). */
  rollbackPurpose?: RollbackPurpose;
};
