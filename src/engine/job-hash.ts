/**
 * The one encoder of a job's state hash in Redis: which field holds what,
 * written from named patches and read back into a JobState. Nothing else
 * in TypeScript spells a field; the scripts in lua.ts take their names
 * from JOB_FIELD and STEP_FIELD.
 *
 * Per step, a field is `<code>:<stepId>` (short codes: a job has a dozen
 * steps and a field each per fact); per job, `_<name>`.
 */
import type { StepChange } from '../domain/actions.ts';
import type { JobDefinition } from '../domain/job-definition.ts';
import type { JobPatch, StepPatch } from '../domain/job-patch.ts';
import { isJobMode, isStepState, type JobMode, type JobSnapshot, type StepSnapshot } from '../domain/job.ts';
import type { StepDetails } from '../domain/job-view.ts';

export const JOB_FIELD = {
  mode: '_mode',
  failedBlocking: '_failed',
  seq: '_seq',
  /** The sequence number and stream id of the job's latest change that has an event. */
  eventSeq: '_evseq',
  eventId: '_evid',
  rollbackPurpose: '_purpose',
} as const;

export const STEP_FIELD = {
  state: 's',
  ticket: 't',
  /** Needs not yet met. */
  remaining: 'r',
  criticality: 'k',
  dependents: 'd',
  /** In a rollback: steps still to be undone before this one, and the steps this one's undoing lets go. */
  compensationWaits: 'c',
  unlocks: 'u',
  compensationStartedAt: 'cs',
  startedAt: 'st',
  finishedAt: 'ft',
  outputs: 'o',
  error: 'e',
  errorTrace: 'tr',
  pollSince: 'ps',
  providedInput: 'i',
  approvedBy: 'a',
  override: 'ov',
  waitingFor: 'w',
  /** The process that claimed the step last (a step carried on has no queue job of its own to say so). */
  runner: 'rn',
  /** The queue job carrying this step on (see step-worker.ts), when one does. */
  carrier: 'cr',
} as const;

export type StepField = keyof typeof STEP_FIELD;
type Fields = Record<string, string | number>;

/** The hash field of one fact of one step. */
export function stepField(name: StepField, stepId: string): string {
  return `${STEP_FIELD[name]}:${stepId}`;
}

/** The facts a worker needs about its step, in the order the claim script returns them. */
export const DETAIL_FIELDS = [
  'startedAt',
  'finishedAt',
  'outputs',
  'error',
  'errorTrace',
  'pollSince',
  'providedInput',
  'approvedBy',
  'override',
  'waitingFor',
] as const satisfies readonly StepField[];

/** A new job's hash: every step pending with its needs counted, the roots ready on their first ticket. */
export function newJobFields(definition: JobDefinition): Fields {
  const fields: Fields = { [JOB_FIELD.mode]: 'forward', [JOB_FIELD.failedBlocking]: 0 };
  for (const step of definition.steps) {
    const root = step.needs.length === 0;
    fields[stepField('state', step.id)] = root ? 'ready' : 'pending';
    fields[stepField('ticket', step.id)] = root ? 1 : 0;
    fields[stepField('remaining', step.id)] = step.needs.length;
    fields[stepField('criticality', step.id)] = step.criticality;
    fields[stepField('dependents', step.id)] = JSON.stringify(step.dependents);
  }
  return fields;
}

/** A planned transition's fields: the job's mode and failure count, and each step it changes. */
export function transitionFields(mode: JobMode, failedBlocking: number, changes: readonly StepChange[]): Fields {
  const fields: Fields = { [JOB_FIELD.mode]: mode, [JOB_FIELD.failedBlocking]: failedBlocking };
  for (const c of changes) {
    if (c.state !== undefined) fields[stepField('state', c.stepId)] = c.state;
    if (c.ticket !== undefined) fields[stepField('ticket', c.stepId)] = c.ticket;
    if (c.remaining !== undefined) fields[stepField('remaining', c.stepId)] = c.remaining;
    if (c.compensationWaits !== undefined) fields[stepField('compensationWaits', c.stepId)] = c.compensationWaits;
    if (c.unlocks !== undefined) fields[stepField('unlocks', c.stepId)] = JSON.stringify(c.unlocks);
  }
  return fields;
}

/** A step's patch as fields; a cleared fact is stored empty. */
export function stepPatchFields(stepId: string, patch: StepPatch): Fields {
  const fields: Fields = {};
  const put = (name: StepField, value: string | number | null | undefined) => {
    if (value !== undefined) fields[stepField(name, stepId)] = value ?? '';
  };
  put('outputs', patch.outputs === undefined ? undefined : JSON.stringify(patch.outputs));
  put('finishedAt', patch.finishedAt);
  put('pollSince', patch.pollSince);
  put('error', patch.error);
  put('errorTrace', patch.errorTrace);
  put('waitingFor', patch.waitingFor);
  put('approvedBy', patch.approvedBy);
  put('providedInput', patch.providedInput === undefined ? undefined : JSON.stringify(patch.providedInput));
  put('override', patch.override === undefined ? undefined : JSON.stringify(patch.override));
  return fields;
}

export function jobPatchFields(patch: JobPatch): Fields {
  const fields: Fields = {};
  for (const [stepId, stepPatch] of Object.entries(patch.steps ?? {})) Object.assign(fields, stepPatchFields(stepId, stepPatch));
  if (patch.rollbackPurpose !== undefined) fields[JOB_FIELD.rollbackPurpose] = patch.rollbackPurpose;
  return fields;
}

/** `lastEventSeq`: the sequence number of the job's latest change that has an event (a held step has none). */
export type JobState = JobSnapshot & { details: ReadonlyMap<string, StepDetails>; lastEventSeq: number };

export function parseJobState(hash: Readonly<Record<string, string>>): JobState {
  const field = (name: StepField, id: string) => hash[stepField(name, id)];
  const statePrefix = `${STEP_FIELD.state}:`;
  const ids = Object.keys(hash)
    .filter((k) => k.startsWith(statePrefix))
    .map((k) => k.slice(statePrefix.length));
  const needs = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const id of ids) for (const d of stringList(parseJson(field('dependents', id)))) needs.get(d)?.push(id);
  const steps = new Map<string, StepSnapshot>();
  const details = new Map<string, StepDetails>();
  for (const id of ids) {
    const state = field('state', id) ?? 'pending';
    steps.set(id, {
      id,
      state: isStepState(state) ? state : 'pending',
      ticket: num(field('ticket', id)) ?? 0,
      remaining: num(field('remaining', id)) ?? 0,
      criticality: field('criticality', id) === 'notification' ? 'notification' : 'blocking',
      needs: needs.get(id) ?? [],
      dependents: stringList(parseJson(field('dependents', id))),
    });
    details.set(
      id,
      stepDetails((name) => field(name, id)),
    );
  }
  const mode = hash[JOB_FIELD.mode] ?? 'forward';
  const seq = num(hash[JOB_FIELD.seq]) ?? 0;
  return {
    mode: isJobMode(mode) ? mode : 'forward',
    failedBlocking: num(hash[JOB_FIELD.failedBlocking]) ?? 0,
    seq,
    steps,
    details,
    lastEventSeq: num(hash[JOB_FIELD.eventSeq]) ?? seq,
  };
}

/** What the claim script returned after its status: DETAIL_FIELDS' values, in order. */
export function claimedDetails(values: readonly unknown[]): StepDetails {
  const byName = new Map<StepField, string>();
  DETAIL_FIELDS.forEach((name, i) => {
    const value = values[i];
    if (typeof value === 'string') byName.set(name, value);
  });
  return stepDetails((name) => byName.get(name));
}

function stepDetails(field: (name: StepField) => string | undefined): StepDetails {
  const override = record(parseJson(field('override')));
  const details: StepDetails = { outputs: record(parseJson(field('outputs'))) };
  const startedAt = num(field('startedAt'));
  const finishedAt = num(field('finishedAt'));
  const pollSince = num(field('pollSince'));
  const error = field('error');
  const errorTrace = field('errorTrace');
  const approvedBy = field('approvedBy');
  const waitingFor = field('waitingFor');
  const input = parseJson(field('providedInput'));
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

function record(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value));
}
