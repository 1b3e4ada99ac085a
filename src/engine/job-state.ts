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
import {
  isJobMode,
  isRollbackPurpose,
  isStepState,
  type JobSnapshot,
  type RollbackPurpose,
  type StepSnapshot,
  type StepState,
} from '../domain/job.ts';
import type { StepDetails } from '../domain/job-view.ts';

type Outputs = Record<string, unknown>;
import { APPLY_TRANSITION, CLAIM_STEP, DETAIL_FIELDS, FINISH_STEP, INIT_JOB } from './lua.ts';
import { parseReleases, type Keys } from './keys.ts';
import { Script } from './script.ts';

/** `lastEventSeq`: the sequence number of the job's latest change that has an event (a held step has none). */
export type JobState = JobSnapshot & { details: ReadonlyMap<string, StepDetails>; lastEventSeq: number };

export type Claim = { status: 'ok' | 'resumed'; details: StepDetails } | { status: 'held' | 'stale' | 'gone' };

/** The job's field saying what its rollback is for (absent: an undo). */
const ROLLBACK_PURPOSE_FIELD = '_purpose';

/** Fields to apply with a rollback's transition so its steps know what it is for (see RollbackPurpose). */
export function rollbackPurposeFields(purpose: RollbackPurpose): Record<string, string> {
  return { [ROLLBACK_PURPOSE_FIELD]: purpose };
}

/** Trimmed length of the event stream; consumers keep far behind this. */
const STREAM_MAXLEN = '100000';

const init = new Script(INIT_JOB);
const claim = new Script(CLAIM_STEP);
const finish = new Script(FINISH_STEP);
const apply = new Script(APPLY_TRANSITION);

export class JobStateStore {
  private readonly redis: Redis;
  private readonly keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    this.redis = redis;
    this.keys = keys;
  }

  /**
   * Creates the job's state with its first steps released and returns it as
   * written (what a read straight after would give); null, changing nothing,
   * if the job exists.
   */
  async init(definition: JobDefinition, event: JobEvent): Promise<JobState | null> {
    const fields: Record<string, string> = { _mode: 'forward', _failed: '0' };
    const released: Release[] = [];
    for (const step of definition.steps) {
      const root = step.needs.length === 0;
      fields[`s:${step.id}`] = root ? 'ready' : 'pending';
      fields[`t:${step.id}`] = root ? '1' : '0';
      fields[`r:${step.id}`] = String(step.needs.length);
      fields[`k:${step.id}`] = step.criticality;
      fields[`d:${step.id}`] = JSON.stringify(step.dependents);
      if (root) released.push({ stepId: step.id, ticket: 1, phase: 'run' });
    }
    // NX: when the same deal arrives twice at once, the first definition stays. Sent without waiting for its
    // answer: the script below goes out behind it on the same connection, so Redis still runs them in this order.
    const [, created] = await Promise.all([
      this.redis.set(this.keys.definition(definition.jobId), JSON.stringify(definition), 'NX'),
      this.run(init, definition.jobId, [JSON.stringify(fields), JSON.stringify(event), JSON.stringify(released), STREAM_MAXLEN]),
    ]);
    // The script's event is the job's first change: sequence number 1.
    return created === 1 ? parseJobState({ ...fields, _seq: '1', _evseq: '1' }) : null;
  }

  async definition(jobId: string): Promise<string | null> {
    return this.redis.get(this.keys.definition(jobId));
  }

  async claim(jobId: string, stepId: string, ticket: number, phase: Phase, event: JobEvent): Promise<Claim> {
    const result = await this.run(claim, jobId, [stepId, ticket, phase, JSON.stringify(event), event.at, STREAM_MAXLEN]);
    if (!Array.isArray(result)) return { status: 'stale' };
    const [status, ...values] = result;
    if (status !== 'ok' && status !== 'resumed') return { status: status === 'held' || status === 'gone' ? status : 'stale' };
    const byField = new Map<string, string | undefined>(DETAIL_FIELDS.map((f, i) => [f, typeof values[i] === 'string' ? values[i] : undefined]));
    return { status, details: stepDetails((prefix) => byField.get(prefix), stepId) };
  }

  /** Records how a step ended; returns the steps it released, or null if the ticket is no longer current. */
  async finish(
    jobId: string,
    step: { stepId: string; ticket: number; phase: Phase },
    outcome: StepState,
    event: JobEvent,
    details: Record<string, string | number>,
  ): Promise<Release[] | null> {
    const result = await this.run(finish, jobId, [
      step.stepId,
      step.ticket,
      step.phase,
      outcome,
      JSON.stringify(event),
      JSON.stringify(details),
      STREAM_MAXLEN,
    ]);
    if (typeof result !== 'string' || result === 'stale') return null;
    return parseReleases(JSON.parse(result));
  }

  /** Applies an operator's planned transition only if the job is still at `seq`. */
  async apply(jobId: string, seq: number, transition: Transition, event: JobEvent, details: Record<string, string>): Promise<boolean> {
    const fields: Record<string, string | number> = {
      ...details,
      _mode: transition.mode,
      _failed: transition.failedBlocking,
    };
    for (const c of transition.changes) {
      if (c.state !== undefined) fields[`s:${c.stepId}`] = c.state;
      if (c.ticket !== undefined) fields[`t:${c.stepId}`] = c.ticket;
      if (c.remaining !== undefined) fields[`r:${c.stepId}`] = c.remaining;
      if (c.compensationWaits !== undefined) fields[`c:${c.stepId}`] = c.compensationWaits;
      if (c.unlocks !== undefined) fields[`u:${c.stepId}`] = JSON.stringify(c.unlocks);
    }
    const withReleases: JobEvent = { ...event, released: transition.release };
    const result = await this.run(apply, jobId, [String(seq), JSON.stringify(fields), JSON.stringify(withReleases), STREAM_MAXLEN]);
    return result === 1;
  }

  /** An event with no state change (a retry scheduled, a poll), for the record. */
  async note(event: JobEvent): Promise<void> {
    await this.redis.xadd(this.keys.events(), 'MAXLEN', '~', STREAM_MAXLEN, '*', 'e', JSON.stringify(event));
  }

  /** What the job's rollback is for: set with the rollback's transition (see rollbackPurposeFields), else an undo. */
  async rollbackPurpose(jobId: string): Promise<RollbackPurpose> {
    const purpose = await this.redis.hget(this.keys.jobState(jobId), ROLLBACK_PURPOSE_FIELD);
    return purpose !== null && isRollbackPurpose(purpose) ? purpose : 'undo';
  }

  async setDetails(jobId: string, fields: Record<string, string | number>): Promise<void> {
    await this.redis.hset(this.keys.jobState(jobId), fields);
  }

  async read(jobId: string): Promise<JobState | null> {
    const hash = await this.redis.hgetall(this.keys.jobState(jobId));
    return Object.keys(hash).length === 0 ? null : parseJobState(hash);
  }

  /** Runs a state script on the job: its keys, then its arguments followed by the job id (see lua.ts). */
  private run(script: Script, jobId: string, args: (string | number)[]): Promise<unknown> {
    return script.run(this.redis, [this.keys.jobState(jobId), this.keys.events(), this.keys.staleViews()], [...args, jobId]);
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function num(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function record(value: unknown): Outputs {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value));
}

export function parseJobState(hash: Record<string, string>): JobState {
  const field = (prefix: string, id: string) => hash[`${prefix}:${id}`];
  const ids = Object.keys(hash)
    .filter((k) => k.startsWith('s:'))
    .map((k) => k.slice(2));
  const needs = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const id of ids) for (const d of stringList(parseJson(field('d', id)))) needs.get(d)?.push(id);
  const steps = new Map<string, StepSnapshot>();
  const details = new Map<string, StepDetails>();
  for (const id of ids) {
    const state = field('s', id) ?? 'pending';
    steps.set(id, {
      id,
      state: isStepState(state) ? state : 'pending',
      ticket: num(field('t', id)) ?? 0,
      remaining: num(field('r', id)) ?? 0,
      criticality: field('k', id) === 'notification' ? 'notification' : 'blocking',
      needs: needs.get(id) ?? [],
      dependents: stringList(parseJson(field('d', id))),
    });
    details.set(id, stepDetails(field, id));
  }
  const mode = hash['_mode'] ?? 'forward';
  const seq = num(hash['_seq']) ?? 0;
  return {
    mode: isJobMode(mode) ? mode : 'forward',
    failedBlocking: num(hash['_failed']) ?? 0,
    seq,
    steps,
    details,
    lastEventSeq: num(hash['_evseq']) ?? seq,
  };
}

function stepDetails(field: (prefix: string, id: string) => string | undefined, id: string): StepDetails {
  const override = record(parseJson(field('ov', id)));
  const details: StepDetails = { outputs: record(parseJson(field('o', id))) };
  const startedAt = num(field('st', id));
  const finishedAt = num(field('ft', id));
  const pollSince = num(field('ps', id));
  const error = field('e', id);
  const errorTrace = field('tr', id);
  const approvedBy = field('a', id);
  const waitingFor = field('w', id);
  const input = parseJson(field('i', id));
  if (startedAt !== undefined) details.startedAt = startedAt;
  if (finishedAt !== undefined) details.finishedAt = finishedAt;
  if (pollSince !== undefined) details.pollSince = pollSince;
  if (error) details.error = error;
  if (errorTrace) details.errorTrace = errorTrace;
  if (approvedBy) details.approvedBy = approvedBy;
  if (waitingFor) details.waitingFor = waitingFor;
  if (input !== undefined) details.providedInput = input;
  if (typeof override['by'] === 'string' && typeof override['reason'] === 'string') {
    details.override = { by: override['by'], reason: override['reason'] };
  }
  return details;
}
