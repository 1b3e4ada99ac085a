/**
 * Runs one step of one job for BullMQ: claims it, calls the step file's run,
 * check or rollback, and records the outcome. What an error means is decided
 * here, once, by its name.
 *
 * A step that succeeds carries on, inside the same BullMQ job, the steps it
 * releases to run (as Temporal's eager activities do): the first in its own
 * slot, one more in each slot free at that moment, and the rest as slots free
 * up in this process (step-slots.ts). A carried step costs no queueing,
 * fetching or completing of a job of its own: the finish that released it
 * marked it carried (so the dispatcher leaves it alone), and claimed it when
 * it had a slot for it. Whatever it cannot finish there (a poll, a retry) is
 * handed back to the queue; and if the worker stops mid-way, the carrying job
 * comes back (BullMQ's stalled-job check, or a retry) to a step already
 * finished, and hands the steps it carried that have not finished back to the
 * queue (handBackCarried).
 */
import { DelayedError, type Job, SpanKind, type Telemetry } from 'bullmq';
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
import type { Carry, Claim, JobStateStore } from './job-state.ts';
import type { Release } from '../domain/actions.ts';
import type { HandBack } from './dispatcher.ts';
import { queueJobId } from './keys.ts';
import { stepLabel, type StepDetails } from '../domain/job-view.ts';
import type { Slot, StepSlots } from './step-slots.ts';
import { withTimeout } from './timeout.ts';

export type StepWorkerDeps = {
  state: JobStateStore;
  definitions: DefinitionCache;
  stepTypes: ReadonlyMap<string, StepType>;
  services: StepServices;
  /** Queues steps a finish released, at once (the dispatcher does it again if this process dies first); a hand-back waits first. */
  enqueue(definition: JobDefinition, releases: readonly Release[], handBack?: HandBack): Promise<void>;
  /** Whether a finished step may carry on steps it released (not once the process is stopping). */
  carrying(): boolean;
  /** The process's step slots (WORKER_CONCURRENCY): every step runs in one, a queued one and a carried one alike. */
  slots: StepSlots;
  /** This process, as claims record it (host-pid). */
  runner: string;
  /** BullMQ's telemetry, when tracing is on: a carried step gets a span of its own, inside its carrier's. */
  telemetry?: Telemetry;
  log: Log;
  metrics: EngineMetrics;
};

/** The turn an activation runs in: a BullMQ job of its own, or the slot of the step that released it. */
type Turn = {
  /** The queue job this runs in (its own, or the one carrying it on). */
  carrier: string;
  /** Attempts made before this one. */
  made: number;
  /** Attempts allowed. */
  max: number;
  /** Taken over from a worker that stopped mid-step. */
  stalled: boolean;
  /** Come back after `delayMs` (a poll). */
  later(delayMs: number): Promise<void>;
  /** Try again after the backoff (a temporary problem). */
  retry(message: string): Promise<void>;
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

/** A carried step's turn: what it cannot finish now goes back to the queue as a step job of its own. */
function carriedTurn(deps: StepWorkerDeps, definition: JobDefinition, step: JobStepDefinition, release: Release, carrier: string): Turn {
  return {
    carrier,
    made: 0,
    max: step.retry.attempts,
    stalled: false,
    later: (delayMs) => deps.enqueue(definition, [release], { delayMs, attemptsUsed: 0 }),
    retry: () => deps.enqueue(definition, [release], { delayMs: step.retry.backoff.delayMs, attemptsUsed: 1 }),
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
  const carrying = a.data.phase === 'run' && outcome === 'succeeded' && a.deps.carrying() ? carryFor(a) : undefined;
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
    ...carried.map((release, i) =>
      i < claims.length
        ? carryOn(a.deps, a.definition, release, a.turn.carrier, slots[i], claims[i])
        : carryOn(a.deps, a.definition, release, a.turn.carrier, undefined, undefined),
    ),
  ]);
  for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
}

/**
 * What the finish carries on for this turn's carrier: every step it releases to run. It starts the first in this
 * slot and one more in each slot free now (claimed in the same change); the others wait in this process for a slot.
 */
function carryFor(a: Activation): { carry: Carry; extra: Slot[] } {
  const started: Record<string, JobEvent> = {};
  for (const dependent of a.definition.steps) {
    if (!dependent.needs.includes(a.step.id)) continue;
    started[dependent.id] = startedEvent({ jobId: a.data.jobId, stepId: dependent.id, ticket: 0, phase: 'run' });
  }
  const dependents = Object.keys(started).length;
  const extra = dependents > 1 ? a.deps.slots.holdFree(dependents - 1) : [];
  return { carry: { carrier: a.turn.carrier, runner: a.deps.runner, starts: 1 + extra.length, started }, extra };
}

/**
 * Runs a step this worker released and marked carried: in `slot` when the finish that released it claimed it,
 * else once a slot is free (claiming it then). It is queued instead if that fails.
 */
async function carryOn(
  deps: StepWorkerDeps,
  definition: JobDefinition,
  release: Release,
  carrier: string,
  held: Slot | undefined,
  claim: Claim | undefined,
): Promise<void> {
  const step = definition.steps.find((s) => s.id === release.stepId);
  if (!step) return held?.give();
  // Not started yet: it waits for a slot, unless the process is stopping; then the queue takes it (never claimed).
  const slot = held ?? (await slotToStart(deps));
  if (!slot) return deps.enqueue(definition, [release]);
  const data: StepJobData = { jobId: definition.jobId, stepId: release.stepId, ticket: release.ticket, phase: release.phase };
  const run = () => activate(deps, definition, step, data, carriedTurn(deps, definition, step, release, carrier), slot, claim);
  try {
    await (deps.telemetry ? inSpan(deps.telemetry, `carry ${step.id}`, { 'bullmq.job.id': queueJobId(definition.jobId, release) }, run) : run());
  } catch (err) {
    // Redis or the store failed mid-way: the step job of its own takes it from here (it checks before acting).
    deps.log.child({ jobId: data.jobId, stepId: data.stepId }).warn({ err }, 'a carried step failed to run; queueing it');
    await deps.enqueue(definition, [release]);
  } finally {
    slot.give();
  }
}

/** A slot for a carried step not started yet; none once the process is stopping (before or while it waits). */
async function slotToStart(deps: StepWorkerDeps): Promise<Slot | undefined> {
  if (!deps.carrying()) return undefined;
  const slot = await deps.slots.hold();
  if (deps.carrying()) return slot;
  slot.give();
  return undefined;
}

/** Runs `fn` in a span of its own, a child of the active one (BullMQ's, of the carrying job). */
async function inSpan(telemetry: Telemetry, name: string, attributes: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const parent = telemetry.contextManager.active();
  const span = telemetry.tracer.startSpan(name, { kind: SpanKind.INTERNAL }, parent);
  span.setAttributes(attributes);
  try {
    await telemetry.contextManager.with(span.setSpanOnContext(parent), fn);
  } finally {
    span.end();
  }
}

/**
 * A queue job came back to its finished step (its worker stopped, or failed, while carrying on what the
 * step released): the steps it carries that have not finished go back to the queue, each under its
 * deterministic id (so one queued already is not queued twice). Only this job's own: a step another
 * worker carries is that worker's.
 */
export async function handBackCarried(deps: Pick<StepWorkerDeps, 'state' | 'enqueue'>, definition: JobDefinition, carrier: string): Promise<void> {
  const carried = await deps.state.carriedBy(definition.jobId, carrier);
  const release = ({ stepId, ticket }: { stepId: string; ticket: number }): Release => ({ stepId, ticket, phase: 'run' });
  const ready = carried.filter((c) => !c.running).map(release);
  const running = carried.filter((c) => c.running).map(release);
  if (ready.length > 0) await deps.enqueue(definition, ready);
  if (running.length > 0) await deps.enqueue(definition, running, { delayMs: 0, attemptsUsed: 0, takenOver: true });
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
