/**
 * Operator actions (approve, reject, provide input, retry, override, cancel,
 * roll back) planned as pure transitions over a job snapshot. The engine
 * applies a plan atomically only if the job has not moved since the snapshot
 * was read, so two clicks can never both win.
 */
import { ActionRefusedError } from './errors.ts';
import { stepLabel, type StepDetails } from './job-view.ts';
import type { JobMode, JobSnapshot, StepSnapshot, StepState } from './job.ts';
import { deriveJobStatus } from './job.ts';
import { jobStatusWords, listWords, stepStateWords, whenWords } from './wording.ts';

export type OperatorAction =
  | { kind: 'approve'; stepId: string }
  | { kind: 'reject'; stepId: string }
  | { kind: 'provide_input'; stepId: string }
  | { kind: 'retry'; stepId: string }
  | { kind: 'override'; stepId: string }
  | { kind: 'cancel' }
  | { kind: 'rollback' };

export type Phase = 'run' | 'compensate';

export type StepChange = {
  stepId: string;
  state?: StepState;
  ticket?: number;
  remaining?: number;
  /** Rollback bookkeeping: how many dependents must be undone first, and whom to tell when done. */
  compensationWaits?: number;
  unlocks?: readonly string[];
};

export type Release = {
  stepId: string;
  ticket: number;
  phase: Phase;
  /**
   * Carried on by the worker whose step released it, in the same slot, rather than queued (the engine's
   * step-worker.ts): nobody else queues it unless that worker stops first.
   */
  carried?: boolean;
};

export type Transition = {
  mode: JobMode;
  failedBlocking: number;
  changes: StepChange[];
  release: Release[];
};

export type Planned = { ok: true; transition: Transition } | { ok: false; reason: string };

const refuse = (reason: string): Planned => ({ ok: false, reason });

/** Mutable working copy, so each rule reads like the business rule it is. */
class Draft {
  mode: JobMode;
  failedBlocking: number;
  private readonly job: JobSnapshot;
  private readonly changes = new Map<string, StepChange>();
  readonly release: Release[] = [];

  constructor(job: JobSnapshot) {
    this.job = job;
    this.mode = job.mode;
    this.failedBlocking = job.failedBlocking;
  }

  step(id: string): StepSnapshot {
    const base = this.job.steps.get(id);
    if (!base) throw new Error(`unknown step ${id}`);
    const change = this.changes.get(id);
    return {
      ...base,
      state: change?.state ?? base.state,
      ticket: change?.ticket ?? base.ticket,
      remaining: change?.remaining ?? base.remaining,
    };
  }

  steps(): StepSnapshot[] {
    return [...this.job.steps.keys()].map((id) => this.step(id));
  }

  set(id: string, change: Omit<StepChange, 'stepId'>): void {
    this.changes.set(id, { ...this.changes.get(id), ...change, stepId: id });
  }

  halted(): boolean {
    return this.mode !== 'forward' || this.failedBlocking > 0;
  }

  /** Queue a step to run, or hold it as pending-with-no-needs while the job is halted. */
  readyOrHold(id: string): void {
    if (this.halted()) {
      this.set(id, { state: 'pending', remaining: 0 });
      return;
    }
    const ticket = this.step(id).ticket + 1;
    this.set(id, { state: 'ready', ticket, remaining: 0 });
    this.release.push({ stepId: id, ticket, phase: 'run' });
  }

  /** A step became done: its dependents have one need fewer. */
  releaseDependents(id: string): void {
    for (const depId of this.step(id).dependents) {
      const dep = this.step(depId);
      const remaining = Math.max(0, dep.remaining - 1);
      this.set(depId, { remaining });
      if (remaining === 0 && dep.state === 'pending') this.readyOrHold(depId);
    }
  }

  /** When the job stops being halted, steps held back while it was go ahead. */
  resumeHeld(): void {
    if (this.halted()) return;
    for (const s of this.steps()) {
      if (s.state === 'pending' && s.remaining === 0) this.readyOrHold(s.id);
    }
  }

  /** Steps queued but not started go back to pending when the job stops. */
  unqueue(): void {
    for (const s of this.steps()) if (s.state === 'ready') this.set(s.id, { state: 'pending' });
  }

  transition(): Transition {
    return { mode: this.mode, failedBlocking: this.failedBlocking, changes: [...this.changes.values()], release: this.release };
  }

  done(): Planned {
    return { ok: true, transition: this.transition() };
  }
}

/**
 * The rule that releases dependents, alone: `stepId` has just become done (succeeded, or overridden) in `job`.
 * Each dependent has one need fewer; one with none left goes ahead on its next ticket, or is held (pending,
 * nothing left to wait for) while the job is halted. The step worker's finish script (engine/lua.ts) applies
 * the same rule atomically in Redis; test/engine/release-rule.test.ts holds both to one table of cases.
 */
export function releasedWhenDone(job: JobSnapshot, stepId: string): { release: Release[]; changes: StepChange[] } {
  const draft = new Draft(job);
  draft.releaseDependents(stepId);
  const { release, changes } = draft.transition();
  return { release, changes };
}

/**
 * A snapshot, with what the job state records about each step (who approved
 * or overrode it, when it finished) when the caller has it: refusals then say
 * who already acted, and when.
 */
export type ActionSnapshot = JobSnapshot & { details?: ReadonlyMap<string, StepDetails> };

export function planAction(job: ActionSnapshot, action: OperatorAction): Planned {
  if (action.kind === 'cancel') return planCancel(job);
  if (action.kind === 'rollback') return planRollback(job);
  const step = job.steps.get(action.stepId);
  if (!step) return refuse(`this job has no step "${action.stepId}"`);
  if (job.mode === 'rollback' || job.mode === 'cancelled' || job.mode === 'rejected') {
    return refuse(`the job is ${jobStatusWords(deriveJobStatus(job))}, so ${stepLabel(step.id)} can no longer change`);
  }
  const details = job.details?.get(step.id);
  const draft = new Draft(job);
  switch (action.kind) {
    case 'approve':
      if (step.state !== 'waiting_approval') return refuse(notWaiting(step, details, 'approval'));
      draft.readyOrHold(step.id);
      return draft.done();
    case 'provide_input':
      if (step.state !== 'waiting_input') return refuse(notWaiting(step, details, 'input'));
      draft.readyOrHold(step.id);
      return draft.done();
    case 'reject':
      if (step.state !== 'waiting_approval') return refuse(notWaiting(step, details, 'approval'));
      draft.set(step.id, { state: 'failed' });
      draft.mode = 'rejected';
      draft.unqueue();
      return draft.done();
    case 'retry':
      return planRetry(draft, step, details);
    case 'override':
      return planOverride(draft, step, details);
  }
}

/**
 * Retry and Override are drawn for one failure of a step, named by when the
 * failed attempt started (each retry starts a new attempt, stamped as it is
 * claimed). Such a button acts only while that failure is the step's current
 * one: an old Retry must not retry a later, different failure.
 */
export type StaleFailure = { stepId: string; why: 'failed_again' | 'moved_on'; state: StepState };

/** Null while the failure is current, or when the button names no attempt (the plan's state check still applies). */
export function staleFailure(step: { id: string; state: StepState; startedAt?: number }, attemptStartedAt: number | undefined): StaleFailure | null {
  if (attemptStartedAt === undefined || (step.state === 'failed' && step.startedAt === attemptStartedAt)) return null;
  return { stepId: step.id, why: step.state === 'failed' ? 'failed_again' : 'moved_on', state: step.state };
}

export class StaleFailureError extends ActionRefusedError {
  override readonly name: string = 'StaleFailureError';
  readonly stale: StaleFailure;
  constructor(stale: StaleFailure) {
    super(staleReason(stale));
    this.stale = stale;
  }
}

function staleReason(stale: StaleFailure): string {
  const label = stepLabel(stale.stepId);
  if (stale.why === 'failed_again') return `${label} has been retried and failed again since that failure; act on its latest failure`;
  return `that failure of ${label} was already dealt with; it is ${stepStateWords(stale.state)} now`;
}

/*
 * Refusals in people's words: the step's label, its state as people say it,
 * and who already acted and when, where the job state records it.
 */

const MOVING_ON: ReadonlySet<StepState> = new Set(['ready', 'running', 'succeeded']);

/** What a person already did to the step, when that is why a click comes too late. */
function alreadyDone(step: StepSnapshot, details: StepDetails | undefined): string | undefined {
  const label = stepLabel(step.id);
  if (step.state === 'overridden' && details?.override) {
    return `${label} was already done by hand: ${details.override.by} overrode it ("${details.override.reason}")`;
  }
  if (!MOVING_ON.has(step.state)) return undefined;
  if (details?.approvedBy) {
    const at = details.finishedAt !== undefined ? ` at ${whenWords(details.finishedAt)}` : '';
    return `${label} was already approved by ${details.approvedBy}${at}`;
  }
  if (details?.providedInput !== undefined) return `${label} already has the input it was waiting for, and is ${stepStateWords(step.state)}`;
  return undefined;
}

/** "it is done (finished at 14:02 on 25 November)" */
function whereItIs(step: StepSnapshot, details: StepDetails | undefined): string {
  const finished = step.state === 'succeeded' && details?.finishedAt !== undefined ? ` (finished at ${whenWords(details.finishedAt)})` : '';
  return `it is ${stepStateWords(step.state)}${finished}`;
}

function notWaiting(step: StepSnapshot, details: StepDetails | undefined, what: 'approval' | 'input'): string {
  return alreadyDone(step, details) ?? `${stepLabel(step.id)} is not waiting for ${what}: ${whereItIs(step, details)}`;
}

function planRetry(draft: Draft, step: StepSnapshot, details: StepDetails | undefined): Planned {
  if (step.state !== 'failed') {
    return refuse(alreadyDone(step, details) ?? `${stepLabel(step.id)} has not failed, so there is nothing to retry: ${whereItIs(step, details)}`);
  }
  if (step.criticality === 'blocking') draft.failedBlocking -= 1;
  // The retried step itself goes first; held steps follow once nothing has failed.
  const ticket = step.ticket + 1;
  draft.set(step.id, { state: 'ready', ticket });
  draft.release.push({ stepId: step.id, ticket, phase: 'run' });
  draft.resumeHeld();
  return draft.done();
}

const OVERRIDABLE: ReadonlySet<StepState> = new Set(['failed', 'waiting_input', 'waiting_approval']);

function planOverride(draft: Draft, step: StepSnapshot, details: StepDetails | undefined): Planned {
  if (!OVERRIDABLE.has(step.state)) {
    const why = alreadyDone(step, details) ?? `${stepLabel(step.id)} cannot be overridden: ${whereItIs(step, details)}`;
    return refuse(`${why}; only a failed or waiting step can be done by hand`);
  }
  if (step.state === 'failed' && step.criticality === 'blocking') draft.failedBlocking -= 1;
  draft.set(step.id, { state: 'overridden' });
  draft.releaseDependents(step.id);
  draft.resumeHeld();
  return draft.done();
}

function planCancel(job: JobSnapshot): Planned {
  const status = deriveJobStatus(job);
  if (job.mode !== 'forward') return refuse(`the job is already ${jobStatusWords(status)}`);
  if (status === 'live') return refuse('the tenant is already live; roll it back instead of cancelling');
  const draft = new Draft(job);
  draft.mode = 'cancelled';
  draft.unqueue();
  return draft.done();
}

/** Blocking steps that ran (or partly ran) and so may have left something to undo. */
const COMPENSABLE: ReadonlySet<StepState> = new Set(['succeeded', 'failed', 'waiting_input', 'waiting_approval']);

function planRollback(job: JobSnapshot): Planned {
  const running = [...job.steps.values()].filter((s) => s.state === 'running').map((s) => stepLabel(s.id));
  if (running.length > 0) {
    const [verb, them] = running.length === 1 ? ['is', 'it'] : ['are', 'them'];
    return refuse(`${listWords(running)} ${verb} still running; cancel the job and wait for ${them} to finish first`);
  }
  if (job.mode === 'rejected') return refuse('the job was rejected before anything ran; there is nothing to roll back');
  if (job.mode === 'rollback') return planRollbackRetry(job);
  const draft = new Draft(job);
  draft.mode = 'rollback';
  draft.unqueue();
  const compensable = (s: StepSnapshot) => s.criticality === 'blocking' && COMPENSABLE.has(s.state);
  const order = rollbackOrder(job, compensable);
  for (const [id, { waits, unlocks }] of order) {
    draft.set(id, { state: 'compensating', compensationWaits: waits.length, unlocks });
    if (waits.length === 0) {
      const ticket = draft.step(id).ticket + 1;
      draft.set(id, { ticket });
      draft.release.push({ stepId: id, ticket, phase: 'compensate' });
    }
  }
  if (order.size === 0) return refuse('nothing has run yet, so there is nothing to roll back; cancel the job instead');
  return draft.done();
}

function planRollbackRetry(job: JobSnapshot): Planned {
  const draft = new Draft(job);
  for (const s of job.steps.values()) {
    if (s.state !== 'compensation_failed') continue;
    const ticket = s.ticket + 1;
    draft.set(s.id, { state: 'compensating', ticket });
    draft.release.push({ stepId: s.id, ticket, phase: 'compensate' });
  }
  if (draft.release.length === 0) return refuse('the rollback has no failed compensation to retry');
  return draft.done();
}

/**
 * Reverse dependency order: a step is undone only after every step built on
 * it has been undone. Steps that need no undoing are looked through, so the
 * order holds across them.
 */
export function rollbackOrder(
  job: Pick<JobSnapshot, 'steps'>,
  compensable: (s: StepSnapshot) => boolean,
): Map<string, { waits: string[]; unlocks: string[] }> {
  const nearest = (from: StepSnapshot, edge: (s: StepSnapshot) => readonly string[]): string[] => {
    const found = new Set<string>();
    const seen = new Set<string>();
    const stack = [...edge(from)];
    for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
      const next = job.steps.get(id);
      if (!next || seen.has(next.id)) continue;
      seen.add(next.id);
      if (compensable(next)) found.add(next.id);
      else stack.push(...edge(next));
    }
    return [...found];
  };
  const order = new Map<string, { waits: string[]; unlocks: string[] }>();
  for (const s of job.steps.values()) {
    if (!compensable(s)) continue;
    order.set(s.id, { waits: nearest(s, (x) => x.dependents), unlocks: nearest(s, (x) => x.needs) });
  }
  return order;
}
