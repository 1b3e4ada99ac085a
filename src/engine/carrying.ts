/**
 * Carrying: a step that succeeds runs the steps it releases itself, inside
 * its own BullMQ job (as Temporal's eager activities do), within the process's
 * step slots (step-slots.ts). The finish marks them carried (so the dispatcher
 * leaves them alone) and claims those it has a slot for; the others wait here
 * for one. What a carried step cannot finish in its turn (a poll, a retry) goes
 * back to the queue; a carrying job that comes back to its finished step hands
 * back the carried steps that have not finished.
 */
import { SpanKind, type Telemetry } from 'bullmq';
import type { Release } from '../domain/actions.ts';
import type { JobEvent } from '../domain/events.ts';
import type { JobDefinition, JobStepDefinition } from '../domain/job-definition.ts';
import type { Log } from '../ports/logger.ts';
import type { HandBack } from './dispatcher.ts';
import type { Carry, Claim, JobStateStore } from './job-state.ts';
import { queueJobId } from './keys.ts';
import { startedEvent, type StepJobData } from './step-records.ts';
import type { Slot, StepSlots } from './step-slots.ts';

/** What carrying needs of the worker's process. */
export type CarryingDeps = {
  state: JobStateStore;
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
};

/** Claims (unless `claim` says the finish did) and runs one step in `slot`: the worker's activation. */
export type Activate = (
  definition: JobDefinition,
  step: JobStepDefinition,
  data: StepJobData,
  turn: Turn,
  slot: Slot,
  claim?: Claim,
) => Promise<void>;

/** The turn an activation runs in: a BullMQ job of its own, or the slot of the step that released it. */
export type Turn = {
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

/** A carried step's turn: what it cannot finish now goes back to the queue as a step job of its own. */
function carriedTurn(deps: CarryingDeps, definition: JobDefinition, step: JobStepDefinition, release: Release, carrier: string): Turn {
  return {
    carrier,
    made: 0,
    max: step.retry.attempts,
    stalled: false,
    later: (delayMs) => deps.enqueue(definition, [release], { delayMs, attemptsUsed: 0 }),
    retry: () => deps.enqueue(definition, [release], { delayMs: step.retry.backoff.delayMs, attemptsUsed: 1 }),
  };
}

/**
 * What the finish carries on for this turn's carrier: every step it releases to run. It starts the first in this
 * slot and one more in each slot free now (claimed in the same change); the others wait in this process for a slot.
 */
export function carryFor(
  deps: CarryingDeps,
  definition: JobDefinition,
  from: { jobId: string; stepId: string },
  carrier: string,
): { carry: Carry; extra: Slot[] } {
  const started: Record<string, JobEvent> = {};
  for (const dependent of definition.steps) {
    if (!dependent.needs.includes(from.stepId)) continue;
    started[dependent.id] = startedEvent({ jobId: from.jobId, stepId: dependent.id, ticket: 0, phase: 'run' });
  }
  const dependents = Object.keys(started).length;
  const extra = dependents > 1 ? deps.slots.holdFree(dependents - 1) : [];
  return { carry: { carrier, runner: deps.runner, starts: 1 + extra.length, started }, extra };
}

/**
 * Runs a step this worker released and marked carried: in `started.slot` when the finish that released it claimed it,
 * else once a slot is free (claiming it then). It is queued instead if that fails.
 */
export async function carryOn(
  deps: CarryingDeps,
  activate: Activate,
  definition: JobDefinition,
  release: Release,
  carrier: string,
  started: { slot: Slot | undefined; claim: Claim | undefined } | undefined,
): Promise<void> {
  const step = definition.steps.find((s) => s.id === release.stepId);
  if (!step) return started?.slot?.give();
  // Not started yet: it waits for a slot, unless the process is stopping; then the queue takes it (never claimed).
  const slot = started?.slot ?? (await slotToStart(deps));
  if (!slot) return deps.enqueue(definition, [release]);
  const data: StepJobData = { jobId: definition.jobId, stepId: release.stepId, ticket: release.ticket, phase: release.phase };
  const run = () => activate(definition, step, data, carriedTurn(deps, definition, step, release, carrier), slot, started?.claim);
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
async function slotToStart(deps: CarryingDeps): Promise<Slot | undefined> {
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
export async function handBackCarried(deps: Pick<CarryingDeps, 'state' | 'enqueue'>, definition: JobDefinition, carrier: string): Promise<void> {
  const carried = await deps.state.carriedBy(definition.jobId, carrier);
  const release = ({ stepId, ticket }: { stepId: string; ticket: number }): Release => ({ stepId, ticket, phase: 'run' });
  const ready = carried.filter((c) => !c.running).map(release);
  const running = carried.filter((c) => c.running).map(release);
  if (ready.length > 0) await deps.enqueue(definition, ready);
  if (running.length > 0) await deps.enqueue(definition, running, { delayMs: 0, attemptsUsed: 0, takenOver: true });
}
