/**
 * The job and step state machine, as pure data. The engine stores these
 * states in Redis and changes them atomically; every decision about which
 * change is allowed lives here so it can be read and tested on its own.
 */

export const STEP_STATES = [
  'pending', // waiting for its needs (or held while the job is halted)
  'ready', // released and queued
  'running', // claimed by a worker; includes polling an async operation
  'waiting_approval',
  'waiting_input',
  'succeeded',
  'failed',
  'overridden', // marked done by a person, with a reason
  'compensating', // rollback queued or running
  'compensated',
  'compensation_failed',
] as const;
export type StepState = (typeof STEP_STATES)[number];

export function isStepState(value: string): value is StepState {
  return (STEP_STATES as readonly string[]).includes(value);
}

/** forward: provisioning; cancelled/rejected: stopped for good; rollback: undoing. */
export const JOB_MODES = ['forward', 'cancelled', 'rejected', 'rollback'] as const;
export type JobMode = (typeof JOB_MODES)[number];

export function isJobMode(value: string): value is JobMode {
  return (JOB_MODES as readonly string[]).includes(value);
}

/**
 * What a rollback is for, which each step's undo may weigh: `undo` takes back
 * a job (a failed or unwanted provisioning: nothing was sold yet, so all goes
 * at once); `decommission` retires a tenant that was live, whose customer keeps
 * what they paid for until it runs out (a subscription ends with its period).
 */
export const ROLLBACK_PURPOSES = ['undo', 'decommission'] as const;
export type RollbackPurpose = (typeof ROLLBACK_PURPOSES)[number];

export function isRollbackPurpose(value: string): value is RollbackPurpose {
  return (ROLLBACK_PURPOSES as readonly string[]).includes(value);
}

export const JOB_STATUSES = [
  'running',
  'awaiting_approval',
  'awaiting_input',
  'failed',
  'live',
  'cancelled',
  'rejected',
  'rolling_back',
  'rolled_back',
  'rollback_failed',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}

export type Criticality = 'blocking' | 'notification';

export type StepSnapshot = {
  id: string;
  state: StepState;
  ticket: number;
  remaining: number;
  criticality: Criticality;
  needs: readonly string[];
  dependents: readonly string[];
};

export type JobSnapshot = {
  mode: JobMode;
  failedBlocking: number;
  seq: number;
  steps: ReadonlyMap<string, StepSnapshot>;
};

const DONE: ReadonlySet<StepState> = new Set(['succeeded', 'overridden']);

/** A step whose dependents may go ahead. */
export function isDone(state: StepState): boolean {
  return DONE.has(state);
}

export function deriveJobStatus(job: Pick<JobSnapshot, 'mode' | 'steps'>): JobStatus {
  const steps = [...job.steps.values()];
  const some = (...states: StepState[]) => steps.some((s) => states.includes(s.state));
  if (job.mode === 'rejected') return 'rejected';
  if (job.mode === 'rollback') {
    const stuck = waitingOnFailedUndo(job.steps);
    if (steps.some((s) => s.state === 'compensating' && !stuck.has(s.id))) return 'rolling_back';
    return some('compensation_failed') ? 'rollback_failed' : 'rolled_back';
  }
  if (job.mode === 'cancelled') return 'cancelled';
  if (steps.some((s) => s.state === 'failed' && s.criticality === 'blocking')) return 'failed';
  if (some('running', 'ready')) return 'running';
  if (some('waiting_approval')) return 'awaiting_approval';
  if (some('waiting_input')) return 'awaiting_input';
  const finished = steps.every((s) => isDone(s.state) || (s.criticality === 'notification' && s.state === 'failed'));
  return finished ? 'live' : 'running';
}

/**
 * Steps whose undo cannot start until a failed undo is retried: everything a
 * step whose compensation failed needs, directly or not (a step is undone
 * only after every step built on it).
 */
function waitingOnFailedUndo(steps: ReadonlyMap<string, StepSnapshot>): Set<string> {
  const stuck = new Set<string>();
  const stack = [...steps.values()].filter((s) => s.state === 'compensation_failed').flatMap((s) => s.needs);
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    if (stuck.has(id)) continue;
    stuck.add(id);
    stack.push(...(steps.get(id)?.needs ?? []));
  }
  return stuck;
}

/** Statuses after which nothing happens without a person acting. */
export function isSettled(status: JobStatus): boolean {
  return status !== 'running' && status !== 'rolling_back';
}

/** Statuses that free the tenant slug for a new job. */
export function releasesSlug(status: JobStatus): boolean {
  return status === 'rejected' || status === 'rolled_back' || status === 'cancelled';
}

/** A lifecycle job in one of these has nothing more to do to its tenant: the next one may start. */
export function freesTenant(status: JobStatus): boolean {
  return status === 'live' || releasesSlug(status);
}

export function progress(job: Pick<JobSnapshot, 'steps'>): { done: number; total: number } {
  const steps = [...job.steps.values()];
  const done = steps.filter((s) => isDone(s.state) || s.state === 'compensated').length;
  return { done, total: steps.length };
}
