/**
 * The live state of every job, in Redis: one hash per job, changed only by
 * the scripts in lua.ts, each change appended to the event stream in the
 * same atomic step. Redis is the authority while a job runs (BullMQ already
 * trusts it with the queue); MongoDB holds the durable, readable record.
 */
import type { Redis } from 'ioredis';
import type { Phase, Release, Transition } from '../domain/actions.ts';
import type { JobEvent } from '../domain/events.ts';
import type { JobDefinition } from '../domain/job-definition.ts';
import type { JobPatch, StepPatch } from '../domain/job-patch.ts';
import { isRollbackPurpose, type RollbackPurpose, type StepState } from '../domain/job.ts';
import type { StepDetails } from '../domain/job-view.ts';
import {
  claimedDetails,
  DETAIL_FIELDS,
  JOB_FIELD,
  jobPatchFields,
  newJobFields,
  parseJobState,
  stepField,
  stepPatchFields,
  transitionFields,
  type JobState,
} from './job-hash.ts';
import { APPLY_TRANSITION, CLAIM_STEP, FINISH_STEP, INIT_JOB } from './lua.ts';
import { parseReleases, type Keys } from './keys.ts';
import { Script } from './script.ts';

export type { JobState } from './job-hash.ts';

/** A claimed step's details and, for an undo, what the job's rollback is for (absent from the job: an undo). */
export type Claim = { status: 'ok' | 'resumed'; details: StepDetails; rollbackPurpose: RollbackPurpose } | { status: 'held' | 'stale' | 'gone' };

/** Trimmed length of the event stream; consumers keep far behind this. */
const STREAM_MAXLEN = '100000';

const init = new Script(INIT_JOB);
const claim = new Script(CLAIM_STEP);
const finish = new Script(FINISH_STEP);
const apply = new Script(APPLY_TRANSITION);

/**
 * Who carries on the steps a finish releases to run: the carrier's queue job, the process (host-pid), the
 * "started" event of each step the finishing one may release, by step id, and how many of them it starts now
 * (claimed in the same change; the others are marked carried and wait in its process for a step slot).
 */
export type Carry = { carrier: string; runner: string; starts: number; started: Readonly<Record<string, JobEvent>> };

/**
 * The started events of the steps a finish may carry on, each as a JSON object in a string and without its time:
 * the script puts in front the time it starts them at, and so never decodes and re-encodes an event.
 */
function startedJson(started: Readonly<Record<string, JobEvent>>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(started).map(([stepId, { at: _at, ...event }]) => [stepId, JSON.stringify(event)])));
}

/** A claim's details as the claim (or finish) script returned them: DETAIL_FIELDS' values, then the rollback purpose. */
function claimed(status: 'ok' | 'resumed', values: readonly unknown[]): Claim {
  const purpose = values[DETAIL_FIELDS.length];
  return { status, details: claimedDetails(values), rollbackPurpose: typeof purpose === 'string' && isRollbackPurpose(purpose) ? purpose : 'undo' };
}

export class JobStateStore {
  private readonly redis: Redis;
  private readonly keys: Keys;
  /** The connections a job's changes go over, one per job: see spreadOver. */
  private lanes: readonly Redis[];

  constructor(redis: Redis, keys: Keys) {
    this.redis = redis;
    this.keys = keys;
    this.lanes = [redis];
  }

  /**
   * Spreads jobs over these connections, each job always on the same one, so that a job's changes still reach
   * Redis in the order they were sent. With one connection, Node and Redis take turns: Redis answers a whole
   * batch of pipelined scripts while Node waits, then Node handles the answers while Redis waits. With two, one
   * batch is answered while the other is handled; measured with 50 concurrent steps on 2 cores, 10–20 % more
   * steps a second (more than two did no better).
   */
  spreadOver(lanes: readonly Redis[]): void {
    if (lanes.length > 0) this.lanes = lanes;
  }

  /** The connection job `jobId`'s changes go over. */
  private laneOf(jobId: string): Redis {
    let hash = 0;
    for (let i = 0; i < jobId.length; i++) hash = (hash * 31 + jobId.charCodeAt(i)) | 0;
    return this.lanes[Math.abs(hash) % this.lanes.length] ?? this.redis;
  }

  /**
   * Creates the job's state with its first steps released and returns it as
   * written (what a read straight after would give); null, changing nothing,
   * if the job exists.
   */
  async init(definition: JobDefinition, event: JobEvent): Promise<JobState | null> {
    const fields = newJobFields(definition);
    const released: Release[] = definition.steps.filter((s) => s.needs.length === 0).map((s) => ({ stepId: s.id, ticket: 1, phase: 'run' }));
    // NX: when the same deal arrives twice at once, the first definition stays. Sent without waiting for its
    // answer: the script below goes out behind it on the same connection, so Redis still runs them in this order.
    const [, created] = await Promise.all([
      this.laneOf(definition.jobId).set(this.keys.definition(definition.jobId), JSON.stringify(definition), 'NX'),
      this.run(init, definition.jobId, [JSON.stringify(fields), JSON.stringify(event), JSON.stringify(released), STREAM_MAXLEN]),
    ]);
    if (created !== 1) return null;
    // The script's event is the job's first change: sequence number 1.
    const written = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]));
    return parseJobState({ ...written, [JOB_FIELD.seq]: '1', [JOB_FIELD.eventSeq]: '1' });
  }

  async definition(jobId: string): Promise<string | null> {
    return this.redis.get(this.keys.definition(jobId));
  }

  /** Claims a step for `runner` (the process that will run it, kept on the step for whoever looks for it). */
  async claim(jobId: string, stepId: string, ticket: number, phase: Phase, event: JobEvent, runner = ''): Promise<Claim> {
    const result = await this.run(claim, jobId, [stepId, ticket, phase, JSON.stringify(event), event.at, STREAM_MAXLEN, runner]);
    if (!Array.isArray(result)) return { status: 'stale' };
    const [status, ...values] = result;
    if (status !== 'ok' && status !== 'resumed') return { status: status === 'held' || status === 'gone' ? status : 'stale' };
    return claimed(status, values);
  }

  /**
   * Records how a step ended; returns the steps it released, or null if the ticket is no longer current.
   * With `carry`, the steps released to run are marked carried (see Release.carried), and the first of them (up to
   * carry.starts) claimed for the carrier in the same change: `carried` holds those claims, in the order released.
   */
  async finish(
    jobId: string,
    step: { stepId: string; ticket: number; phase: Phase },
    outcome: StepState,
    event: JobEvent,
    patch: StepPatch,
    carry?: Carry,
  ): Promise<{ released: Release[]; carried: Claim[] } | null> {
    const result = await this.run(finish, jobId, [
      step.stepId,
      step.ticket,
      step.phase,
      outcome,
      JSON.stringify(event),
      JSON.stringify(stepPatchFields(step.stepId, patch)),
      STREAM_MAXLEN,
      carry?.carrier ?? '',
      startedJson(carry?.started ?? {}),
      carry?.runner ?? '',
      carry?.starts ?? 0,
      event.at,
    ]);
    if (typeof result === 'string') return result === 'stale' ? null : { released: parseReleases(JSON.parse(result)), carried: [] };
    if (!Array.isArray(result) || typeof result[0] !== 'string') return null;
    const [released, ...values] = result;
    // Per carried step: DETAIL_FIELDS' values, then the rollback purpose.
    const stride = DETAIL_FIELDS.length + 1;
    const carried = Array.from({ length: values.length / stride }, (_, i) => claimed('ok', values.slice(i * stride, (i + 1) * stride)));
    return { released: parseReleases(JSON.parse(released)), carried };
  }

  /** Applies an operator's planned transition, with what the action records, only if the job is still at `seq`. */
  async apply(jobId: string, seq: number, transition: Transition, event: JobEvent, patch: JobPatch): Promise<boolean> {
    const fields = { ...jobPatchFields(patch), ...transitionFields(transition.mode, transition.failedBlocking, transition.changes) };
    const withReleases: JobEvent = { ...event, released: transition.release };
    const result = await this.run(apply, jobId, [String(seq), JSON.stringify(fields), JSON.stringify(withReleases), STREAM_MAXLEN]);
    return result === 1;
  }

  /** An event with no state change (a retry scheduled, a poll), for the record. */
  async note(event: JobEvent): Promise<void> {
    await this.laneOf(event.jobId).xadd(this.keys.events(), 'MAXLEN', '~', STREAM_MAXLEN, '*', 'e', JSON.stringify(event));
  }

  /** Facts about a step that change no state (a poll's progress). */
  async patchStep(jobId: string, stepId: string, patch: StepPatch): Promise<void> {
    await this.laneOf(jobId).hset(this.keys.jobState(jobId), stepPatchFields(stepId, patch));
  }

  async read(jobId: string): Promise<JobState | null> {
    const hash = await this.redis.hgetall(this.keys.jobState(jobId));
    return Object.keys(hash).length === 0 ? null : parseJobState(hash);
  }

  /** The steps queue job `carrier` carries on that have not finished (ready or running), with their tickets. */
  async carriedBy(jobId: string, carrier: string): Promise<{ stepId: string; ticket: number; running: boolean }[]> {
    const hash = await this.redis.hgetall(this.keys.jobState(jobId));
    if (Object.keys(hash).length === 0) return [];
    const state = parseJobState(hash);
    return [...state.steps.values()]
      .filter((s) => hash[stepField('carrier', s.id)] === carrier && (s.state === 'ready' || s.state === 'running'))
      .map((s) => ({ stepId: s.id, ticket: s.ticket, running: s.state === 'running' }));
  }

  /** Runs a state script on the job: its keys, then its arguments followed by the job id (see lua.ts). */
  private run(script: Script, jobId: string, args: (string | number)[]): Promise<unknown> {
    return script.run(this.laneOf(jobId), [this.keys.jobState(jobId), this.keys.events(), this.keys.staleViews()], [...args, jobId]);
  }
}
