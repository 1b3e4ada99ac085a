/**
 * Runs one step of one job for BullMQ: claims it, calls the step file's run,
 * check or rollback, and records the outcome. What an error means is decided
 * here, once, by its name.
 */
import { DelayedError, type Job } from 'bullmq';
import { z } from 'zod';
import { formatDuration } from '../domain/audit.ts';
import { classifyError, PermanentError, TransientError, type ClassifiedError } from '../domain/errors.ts';
import { ENGINE_ACTOR, type EventType, type JobEvent } from '../domain/events.ts';
import type { JobDefinition, JobStepDefinition } from '../domain/job-definition.ts';
import { redactText } from '../domain/redact.ts';
import type { Log } from '../ports/logger.ts';
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
import type { JobStateStore } from './job-state.ts';
import type { Release } from '../domain/actions.ts';
import { stepLabel, type StepDetails } from '../domain/job-view.ts';
import { withTimeout } from './timeout.ts';

export const StepJobData = z.object({
  jobId: z.string(),
  stepId: z.string(),
  ticket: z.number().int(),
  phase: z.enum(['run', 'compensate']),
});
export type StepJobData = z.infer<typeof StepJobData>;

export type StepWorkerDeps = {
  state: JobStateStore;
  definitions: DefinitionCache;
  stepTypes: ReadonlyMap<string, StepType>;
  services: StepServices;
  /** Queues steps a finish released, at once (the dispatcher does it again if this process dies first). */
  enqueue(definition: JobDefinition, releases: readonly Release[]): Promise<void>;
  log: Log;
  metrics: EngineMetrics;
};

/** Everything one activation knows; built once, passed down. */
type Activation = {
  deps: StepWorkerDeps;
  job: Job;
  token: string | undefined;
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
};

export async function processStepJob(deps: StepWorkerDeps, job: Job, token: string | undefined): Promise<void> {
  const activatedAt = Date.now();
  const data = StepJobData.parse(job.data);
  const definition = await deps.definitions.get(data.jobId);
  const step = definition?.steps.find((s) => s.id === data.stepId);
  if (!definition || !step) return; // the job was deleted: nothing left to do
  const label = stepLabel(step.id);
  const started = event(data, 'step.started', data.phase === 'run' ? `Step ${label} started` : `Undoing ${label}`);
  const claim = await deps.state.claim(data.jobId, data.stepId, data.ticket, data.phase, started);
  if (claim.status !== 'ok' && claim.status !== 'resumed') return;
  const resumed = claim.status === 'resumed';
  const details = claim.details;
  const type = deps.stepTypes.get(step.type);
  const log = deps.log.child({ jobId: data.jobId, stepId: data.stepId, stepType: step.type, phase: data.phase, attempt: job.attemptsMade + 1 });
  const base = { deps, job, token, data, step, definition, details, rollbackPurpose: claim.rollbackPurpose, label, log, activatedAt };
  if (!type) {
    await fail({ ...base, bound: unboundStep }, new PermanentError(`unknown step type "${step.type}"`));
    return;
  }
  const activation: Activation = { ...base, bound: type.bind(step.input) };
  if (resumed && job.stalledCounter > 0 && details.pollSince === undefined) {
    // A worker stopped mid-step (crash, deploy): say so, since the step may now run a second time.
    log.warn({}, 'step picked up again after a worker stopped mid-step; checking before running it again');
    await deps.state.note(
      event(data, 'step.resumed', `Step ${label} picked up again after a worker stopped mid-step; checking before running it again`),
    );
  }
  if (data.phase === 'compensate') await compensate(activation);
  else await runForward(activation, resumed);
}

const unboundStep: ReturnType<StepType['bind']> = {
  run: () => Promise.reject(new PermanentError('unknown step type')),
  check: () => Promise.reject(new PermanentError('unknown step type')),
  rollback: () => Promise.resolve(undefined),
  describe: () => 'unknown step',
  plan: () => ({ summary: 'Unknown step type: nothing can be planned', resources: [] }),
};

function event(data: StepJobData, type: EventType, summary: string, extra: Partial<JobEvent> = {}): JobEvent {
  return { type, jobId: data.jobId, stepId: data.stepId, phase: data.phase, at: Date.now(), actor: ENGINE_ACTOR, summary, ...extra };
}

function context(a: Activation, signal: AbortSignal, outputs: Outputs): StepContext<unknown> {
  return {
    jobId: a.data.jobId,
    stepId: a.data.stepId,
    input: a.step.input,
    tenant: a.definition.tenant,
    idempotencyKey: idempotencyKeyFor(a.data.jobId, a.data.stepId),
    attempt: a.job.attemptsMade + 1,
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
async function schedulePoll(a: Activation, outputs: Outputs, pollAfterMs: number, reminder?: string): Promise<never> {
  const patch: StepPatch = { outputs };
  if (a.details.pollSince === undefined) {
    patch.pollSince = Date.now();
    await a.deps.state.note(event(a.data, 'step.polling', `Step ${a.label} is waiting for its operation to finish`));
  }
  if (reminder !== undefined) await a.deps.state.note(event(a.data, 'step.reminder', reminder));
  await a.deps.state.patchStep(a.data.jobId, a.data.stepId, patch);
  await a.job.moveToDelayed(Date.now() + pollAfterMs, a.token);
  throw new DelayedError();
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
  return a.job.attemptsMade + 1 < (a.job.opts.attempts ?? 1);
}

/** Rethrowing hands the attempt back to BullMQ, which waits out the backoff (with jitter) and tries again. */
async function retryLater(a: Activation, message: string): Promise<never> {
  const attempt = a.job.attemptsMade + 1;
  const max = a.job.opts.attempts ?? 1;
  a.deps.metrics.stepRetrying({ type: a.step.type, phase: a.data.phase });
  a.log.info({ error: message, maxAttempts: max }, 'step hit a temporary problem; trying again');
  await a.deps.state.note(
    event(a.data, 'step.retrying', `Step ${a.label} hit a temporary problem (${message}); trying again (attempt ${attempt + 1} of ${max})`, {
      error: message,
      attempt,
    }),
  );
  throw new TransientError(message);
}

async function fail(a: Activation, err: unknown, message = redactText(classifyError(err).message)): Promise<void> {
  const attempts = classifyError(err).kind === 'transient' ? a.job.attemptsMade + 1 : undefined;
  const failure = stepFailure(a.data, { message, trace: traceOf(err), attempts });
  await finish(a, failure.outcome, failure.event, failure.patch, err);
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
function traceOf(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    parts.push(depth === 0 ? (current.stack ?? String(current)) : `Caused by: ${current.stack ?? String(current)}`);
    current = current.cause;
  }
  const trace = redactText(parts.join('\n'));
  return trace.length > TRACE_LIMIT ? `${trace.slice(0, TRACE_LIMIT)}\n… (cut)` : trace;
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
  const released = await a.deps.state.finish(a.data.jobId, a.data, outcome, safe, patch);
  if (released === null) return; // someone acted on the step meanwhile: this outcome was not recorded
  observe(a, outcome, safe, err);
  if (released.length > 0) await a.deps.enqueue(a.definition, released);
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
