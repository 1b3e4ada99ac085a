/**
 * Runs one step of one job for BullMQ: claims it, calls the step file's run,
 * check or rollback, and records the outcome. What an error means is decided
 * here, once, by its name.
 *
 * A step that succeeds carries on the steps it releases (carrying.ts), each
 * in a step slot of this process (step-slots.ts); a queued step job waits for
 * a slot too.
 */
import { DelayedError, type Job } from 'bullmq';
import { event, startedEvent, StepJobData, stepFailure, traceOf } from './step-records.ts';
import { formatDuration } from '../domain/audit.ts';
import { classifyError, PermanentError, TransientError, type ClassifiedError } from '../domain/errors.ts';
import type { JobEvent } from '../domain/events.ts';
import type { JobDefinition, JobStepDefinition } from '../domain/job-definition.ts';
import { redactText } from '../domain/redact.ts';
import { lazyChild, type Log } from '../ports/logger.ts';
import type { EngineMetrics, StepOutcome } from '../ports/metrics.ts';
import type { StepServices } from '../ports/step-services.ts';
import type { RollbackPurpose } from '../domain/job.ts';
import type { StepPatch } from '../domain/job-patch.ts';
import {
  idempotencyKeyFor,
  type CheckResult,
  type Outputs,
  type RollbackResult,
  type RunResult,
  type StepContext,
  type StepType,
} from '../steps/step.ts';
import type { DefinitionCache } from './definitions.ts';
import type { Claim, JobStateStore } from './job-state.ts';
import { stepLabel, type StepDetails } from '../domain/job-view.ts';
import type { Slot } from './step-slots.ts';
import { withTimeout } from './timeout.ts';
import { type Activate, carryFor, carryOn, type CarryingDeps, handBackCarried, type Turn } from './carrying.ts';

export type StepWorkerDeps = CarryingDeps & {
  definitions: DefinitionCache;
  stepTypes: ReadonlyMap<string, StepType>;
  services: StepServices;
  metrics: EngineMetrics;
};

/** A step job's own turn: BullMQ delays it (DelayedError) or retries it with its backoff (the error rethrown). */
function jobTurn(job: Job, token: string | undefined, data: StepJobData): Turn {
  return {
    carrier: job.id ?? '',
    made: job.attemptsMade + (data.attemptsBefore ?? 0),
    max: job.opts.attempts ?? 1,
    stalled: job.stalledCounter > 0 || data.takenOver === true,
    async later(delayMs) {
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    },
    retry: (message) => Promise.reject(new TransientError(message)),
  };
}

/** Everything one activation knows; built once, passed down. */
type Activation = {
  deps: StepWorkerDeps;
  turn: Turn;
  data: StepJobData;
  step: JobStepDefinition;
  definition: JobDefinition;
  bound: ReturnType<StepType['bind']>;
  details: StepDetails;
  /** What the job's rollback is for, as the claim read it (an undo when there is none). */
  rollbackPurpose: RollbackPurpose;
  label: string;
  /** Every line about this activation carries jobId, stepId, step type, phase and attempt. */
  log: Log;
  /** When this activation began (a rollback's duration runs from here). */
  activatedAt: number;
  /** The step slot it runs in, handed on to the first step it carries on. */
  slot: Slot;
};

export async function processStepJob(deps: StepWorkerDeps, job: Job, token: string | undefined): Promise<void> {
  const data = StepJobData.parse(job.data);
  const definition = await deps.definitions.get(data.jobId);
  const step = definition?.steps.find((s) => s.id === data.stepId);
  if (!definition || !step) return; // the job was deleted: nothing left to do
  const slot = await deps.slots.hold();
  try {
    await activate(deps, definition, step, data, jobTurn(job, token, data), slot);
  } finally {
    slot.give();
  }
}

/** Claims the step (unless the finish that released it claimed it already, for this carrier) and runs its phase. */
async function activate(
  deps: StepWorkerDeps,
  definition: JobDefinition,
  step: JobStepDefinition,
  data: StepJobData,
  turn: Turn,
  slot: Slot,
  preclaimed?: Claim,
): Promise<void> {
  const activatedAt = Date.now();
  const label = stepLabel(step.id);
  const claim = preclaimed ?? (await deps.state.claim(data.jobId, data.stepId, data.ticket, data.phase, startedEvent(data), deps.runner));
  // Come back to a step already finished: a worker may have stopped while carrying on what it released.
  if (claim.status === 'stale' && data.phase === 'run' && turn.carrier !== '') await handBackCarried(deps, definition, turn.carrier);
  if (claim.status !== 'ok' && claim.status !== 'resumed') return;
  const resumed = claim.status === 'resumed';
  const details = claim.details;
  const type = deps.stepTypes.get(step.type);
  const log = lazyChild(deps.log, { jobId: data.jobId, stepId: data.stepId, stepType: step.type, phase: data.phase, attempt: turn.made + 1 });
  const base = { deps, turn, data, step, definition, details, rollbackPurpose: claim.rollbackPurpose, label, log, activatedAt, slot };
  if (!type) {
    await fail({ ...base, bound: unboundStep }, new PermanentError(`unknown step type "${step.type}"`));
    return;
  }
  const activation: Activation = { ...base, bound: type.bind(step.input) };
  if (resumed && turn.stalled && details.pollSince === undefined) {
    // A worker stopped mid-step (crash, deploy): say so, since the step may now run a second time.
    log.warn({}, 'step picked up again after a worker stopped mid-step; checking before running it again');
    await deps.state.note(
      event(data, 'step.resumed', `Step ${label} picked up again after a worker stopped mid-step; checking before running it again`),
    );
  }
  if (data.phase === 'compensate') await compensate(activation);
  else await runForward(activation, resumed);
}

/** `activate` for the steps a finish carries on. */
function activator(deps: StepWorkerDeps): Activate {
  return (definition, step, data, turn, slot, claim) => activate(deps, definition, step, data, turn, slot, claim);
}

const unboundStep: ReturnType<StepType['bind']> = {
  run: () => Promise.reject(new PermanentError('unknown step type')),
  check: () => Promise.reject(new PermanentError('unknown step type')),
  rollback: () => Promise.resolve(undefined),
  describe: () => 'unknown step',
  plan: () => ({ summary: 'Unknown step type: nothing can be planned', resources: [] }),
};

function context(a: Activation, signal: AbortSignal, outputs: Outputs): StepContext<unknown> {
  return {
    jobId: a.data.jobId,
    stepId: a.data.stepId,
    input: a.step.input,
    tenant: a.definition.tenant,
    idempotencyKey: idempotencyKeyFor(a.data.jobId, a.data.stepId),
    attempt: a.turn.made + 1,
    signal,
    outputs,
    providedInput: a.details.providedInput,
    approvedBy: a.details.approvedBy,
    rollbackPurpose: a.rollbackPurpose,
    services: a.deps.services,
  };
}

async function runForward(a: Activation, resumed: boolean): Promise<void> {
  let outputs = a.details.outputs;
  try {
    const call = <T>(what: string, fn: (ctx: StepContext<unknown>) => Promise<T>) =>
      withTimeout(a.step.timeoutMs, `${a.label} (${what})`, (signal) => fn(context(a, signal, outputs)));
    let result: RunResult | CheckResult;
    if (a.details.pollSince !== undefined) {
      result = await pollOnce(a, call);
    } else {
      // Re-delivered after a crash or a retry: look before acting again. A fresh
      // run that says done is trusted; its check runs when it is re-delivered.
      const existing = resumed ? await call('check', (ctx) => a.bound.check(ctx)) : undefined;
      result = existing?.status === 'done' ? existing : await call('run', (ctx) => a.bound.run(ctx));
    }
    if ('outputs' in result && result.outputs) outputs = { ...outputs, ...result.outputs };
    if (result.status === 'pending') return await schedulePoll(a, outputs, result.pollAfterMs, 'reminder' in result ? result.reminder : undefined);
    if (result.status === 'missing') throw new TransientError(`${a.label} ran, but its check found: ${result.reason}`);
    await succeed(a, outputs);
  } catch (err) {
    if (err instanceof DelayedError) throw err;
    await onError(a, err);
  }
}

async function pollOnce(
  a: Activation,
  call: (what: string, fn: (ctx: StepContext<unknown>) => Promise<CheckResult>) => Promise<CheckResult>,
): Promise<CheckResult> {
  const waited = Date.now() - (a.details.pollSince ?? Date.now());
  if (waited > a.step.pollTimeoutMs) {
    throw new PermanentError(`${a.label} did not finish within ${formatDuration(a.step.pollTimeoutMs)}`);
  }
  return call('check', (ctx) => a.bound.check(ctx));
}

/** Async work in flight: come back later as a delayed job, never sleep in the worker. */
async function schedulePoll(a: Activation, outputs: Outputs, pollAfterMs: number, reminder?: string): Promise<void> {
  const patch: StepPatch = { outputs };
  if (a.details.pollSince === undefined) {
    patch.pollSince = Date.now();
    await a.deps.state.note(event(a.data, 'step.polling', `Step ${a.label} is waiting for its operation to finish`));
  }
  if (reminder !== undefined) await a.deps.state.note(event(a.data, 'step.reminder', reminder));
  await a.deps.state.patchStep(a.data.jobId, a.data.stepId, patch);
  await a.turn.later(pollAfterMs);
}

async function succeed(a: Activation, outputs: Outputs): Promise<void> {
  const now = Date.now();
  const durationMs = now - (a.details.startedAt ?? now);
  const summary = a.bound.describe(outputs);
  await finish(a, 'succeeded', event(a.data, 'step.succeeded', summary, { durationMs }), {
    outputs,
    finishedAt: now,
    error: null,
    errorTrace: null,
    waitingFor: null,
  });
}

async function onError(a: Activation, err: unknown): Promise<void> {
  const error = classifyError(err);
  const message = redactText(error.message);
  if (error.kind === 'needs-input') {
    await finish(a, 'waiting_input', event(a.data, 'step.waiting_input', `Step ${a.label} is waiting for ${error.prompt}`), {
      waitingFor: error.prompt,
    });
    return;
  }
  if (error.kind === 'needs-approval') {
    const reasons = error.reasons.join('; ');
    await finish(a, 'waiting_approval', event(a.data, 'step.waiting_approval', `Waiting for approval: ${reasons}`), {
      waitingFor: reasons,
    });
    return;
  }
  if (error.kind === 'transient' && retriesLeft(a)) return retryLater(a, message);
  await fail(a, err, message);
}

function retriesLeft(a: Activation): boolean {
  return a.turn.made + 1 < a.turn.max;
}

/** The turn tries again after the backoff: BullMQ (with jitter) for a step job, the queue for a carried step. */
async function retryLater(a: Activation, message: string): Promise<void> {
  const attempt = a.turn.made + 1;
  const max = a.turn.max;
  a.deps.metrics.stepRetrying({ type: a.step.type, phase: a.data.phase });
  a.log.info({ error: message, maxAttempts: max }, 'step hit a temporary problem; trying again');
  await a.deps.state.note(
    event(a.data, 'step.retrying', `Step ${a.label} hit a temporary problem (${message}); trying again (attempt ${attempt + 1} of ${max})`, {
      error: message,
      attempt,
    }),
  );
  await a.turn.retry(message);
}

async function fail(a: Activation, err: unknown, message = redactText(classifyError(err).message)): Promise<void> {
  const attempts = classifyError(err).kind === 'transient' ? a.turn.made + 1 : undefined;
  const failure = stepFailure(a.data, { message, trace: traceOf(err), attempts });
  await finish(a, failure.outcome, failure.event, failure.patch, err);
}

async function compensate(a: Activation): Promise<void> {
  const started = Date.now();
  let undone: RollbackResult;
  try {
    undone = await withTimeout(a.step.timeoutMs, `${a.label} (rollback)`, (signal) => a.bound.rollback(context(a, signal, a.details.outputs)));
  } catch (err) {
    const error: ClassifiedError = classifyError(err);
    if (error.kind === 'transient' && retriesLeft(a)) return retryLater(a, redactText(error.message));
    return fail(a, err);
  }
  const durationMs = Date.now() - started;
  const summary = undone?.summary ?? `Undone: ${a.bound.describe(a.details.outputs)}`;
  await finish(a, 'compensated', event(a.data, 'step.compensated', summary, { durationMs }), {});
}

async function finish(a: Activation, outcome: StepOutcome, ev: JobEvent, patch: StepPatch, err?: unknown): Promise<void> {
  const safe: JobEvent = { ...ev, summary: redactText(ev.summary) };
  const carrying =
    a.data.phase === 'run' && outcome === 'succeeded' && a.deps.carrying() ? carryFor(a.deps, a.definition, a.data, a.turn.carrier) : undefined;
  let finished: Awaited<ReturnType<JobStateStore['finish']>>;
  try {
    finished = await a.deps.state.finish(a.data.jobId, a.data, outcome, safe, patch, carrying?.carry);
  } catch (error) {
    for (const slot of carrying?.extra ?? []) slot.give();
    throw error;
  }
  const claims = finished?.carried ?? [];
  // The steps started now run in this slot and the free ones taken for them; those not used go back at once.
  const slots = [a.slot, ...(carrying?.extra ?? [])];
  for (const unused of slots.slice(Math.max(1, claims.length))) unused.give();
  if (finished === null) return; // someone acted on the step meanwhile: this outcome was not recorded
  observe(a, outcome, safe, err);
  // No step carried on in this slot: it goes back now, not once the carried steps waiting for one have run.
  if (claims.length === 0) a.slot.give();
  const queued = finished.released.filter((r) => !r.carried);
  const carried = finished.released.filter((r) => r.carried);
  // Carried steps start while anything not carried is queued: they wait for no round trip but their own.
  const outcomes = await Promise.allSettled([
    queued.length > 0 ? a.deps.enqueue(a.definition, queued) : undefined,
    ...carried.map((release, i) => {
      const started = i < claims.length ? { slot: slots[i], claim: claims[i] } : undefined;
      return carryOn(a.deps, activator(a.deps), a.definition, release, a.turn.carrier, started);
    }),
  ]);
  for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
}

/** The outcome in the metrics and the log, once it is recorded. */
function observe(a: Activation, outcome: StepOutcome, ev: JobEvent, err: unknown): void {
  const since = a.data.phase === 'run' ? (a.details.startedAt ?? a.activatedAt) : a.activatedAt;
  const durationMs = ev.durationMs ?? Date.now() - since;
  a.deps.metrics.stepFinished({ type: a.step.type, phase: a.data.phase, outcome, durationMs });
  // The error itself (with its stack) for whoever debugs; the logger redacts it like every field.
  const fields = { outcome, durationMs, ...(ev.error === undefined ? {} : { error: ev.error }), ...(err === undefined ? {} : { err }) };
  if (outcome === 'failed' || outcome === 'compensation_failed') a.log.warn(fields, ev.summary);
  else if (outcome === 'succeeded' || outcome === 'compensated') a.log.debug(fields, ev.summary);
  else a.log.info(fields, ev.summary);
}
