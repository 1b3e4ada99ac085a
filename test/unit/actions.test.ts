/** Operator actions as pure plans over a job snapshot: what each click may do, and what it may not. */
import { describe, expect, it } from 'vitest';
import { planAction, rollbackOrder, staleFailure, StaleFailureError } from '../../src/domain/actions.ts';
import { ActionRefusedError } from '../../src/domain/errors.ts';
import type { StepDetails } from '../../src/domain/job-view.ts';
import { deriveJobStatus, type JobMode, type JobSnapshot, type StepSnapshot, type StepState } from '../../src/domain/job.ts';

/** database → seed_data, database → secrets → sso; welcome_email (notification) needs sso. */
function job(states: Record<string, StepState>, mode: JobMode = 'forward'): JobSnapshot {
  const edges: Record<string, string[]> = { database: [], seed_data: ['database'], secrets: ['database'], sso: ['secrets'], welcome_email: ['sso'] };
  const steps = new Map<string, StepSnapshot>();
  for (const [id, needs] of Object.entries(edges)) {
    const dependents = Object.entries(edges)
      .filter(([, n]) => n.includes(id))
      .map(([d]) => d);
    const state = states[id] ?? 'pending';
    const unmet = needs.filter((n) => !['succeeded', 'overridden'].includes(states[n] ?? 'pending')).length;
    steps.set(id, { id, state, ticket: 1, remaining: unmet, criticality: id === 'welcome_email' ? 'notification' : 'blocking', needs, dependents });
  }
  const failedBlocking = [...steps.values()].filter((s) => s.state === 'failed' && s.criticality === 'blocking').length;
  return { mode, failedBlocking, seq: 7, steps };
}

describe('operator actions', () => {
  it('retrying a failed step re-queues only that step with a new ticket', () => {
    const planned = planAction(job({ database: 'succeeded', secrets: 'failed', seed_data: 'succeeded' }), { kind: 'retry', stepId: 'secrets' });
    expect(planned).toEqual({
      ok: true,
      transition: {
        mode: 'forward',
        failedBlocking: 0,
        changes: [{ stepId: 'secrets', state: 'ready', ticket: 2 }],
        release: [{ stepId: 'secrets', ticket: 2, phase: 'run' }],
      },
    });
  });

  it('a step held back while the job was halted goes ahead when the failure is overridden', () => {
    // seed_data failed; secrets was ready but held (pending with nothing left to wait for).
    const snapshot = job({ database: 'succeeded', seed_data: 'failed', secrets: 'pending' });
    const planned = planAction(snapshot, { kind: 'override', stepId: 'seed_data' });
    if (!planned.ok) throw new Error(planned.reason);
    expect(planned.transition.failedBlocking).toBe(0);
    expect(planned.transition.release).toEqual([{ stepId: 'secrets', ticket: 2, phase: 'run' }]);
    expect(planned.transition.changes).toContainEqual({ stepId: 'seed_data', state: 'overridden' });
  });

  it('approving twice: the second click finds nothing waiting and is refused with a reason', () => {
    const first = planAction(job({ database: 'waiting_approval' }), { kind: 'approve', stepId: 'database' });
    expect(first.ok).toBe(true);
    const second = planAction(job({ database: 'running' }), { kind: 'approve', stepId: 'database' });
    expect(second).toEqual({ ok: false, reason: 'database is not waiting for approval: it is running' });
  });

  it('rejecting stops the job for good', () => {
    const planned = planAction(job({ database: 'waiting_approval' }), { kind: 'reject', stepId: 'database' });
    if (!planned.ok) throw new Error(planned.reason);
    expect(planned.transition.mode).toBe('rejected');
    expect(planAction(job({ database: 'failed' }, 'rejected'), { kind: 'retry', stepId: 'database' })).toEqual({
      ok: false,
      reason: 'the job is rejected, so database can no longer change',
    });
  });

  it('a live tenant cannot be cancelled, only rolled back', () => {
    const live = job({ database: 'succeeded', seed_data: 'succeeded', secrets: 'succeeded', sso: 'succeeded', welcome_email: 'failed' });
    expect(deriveJobStatus(live)).toBe('live');
    expect(planAction(live, { kind: 'cancel' })).toEqual({ ok: false, reason: 'the tenant is already live; roll it back instead of cancelling' });
  });

  it('rollback starts from the leaves and skips notifications; each step waits for everything built on it', () => {
    const live = job({ database: 'succeeded', seed_data: 'succeeded', secrets: 'succeeded', sso: 'succeeded', welcome_email: 'succeeded' });
    const planned = planAction(live, { kind: 'rollback' });
    if (!planned.ok) throw new Error(planned.reason);
    expect(planned.transition.release.map((r) => r.stepId).sort()).toEqual(['seed_data', 'sso']);
    const order = rollbackOrder(live, (s) => s.criticality === 'blocking' && s.state === 'succeeded');
    expect(order.get('database')).toEqual({ waits: expect.arrayContaining(['seed_data', 'secrets']), unlocks: [] });
    expect(order.get('secrets')).toEqual({ waits: ['sso'], unlocks: ['database'] });
    expect(order.has('welcome_email')).toBe(false);
  });

  it('rollback is refused while a step is still running', () => {
    expect(planAction(job({ database: 'succeeded', secrets: 'running' }), { kind: 'rollback' })).toEqual({
      ok: false,
      reason: 'secrets is still running; cancel the job and wait for it to finish first',
    });
  });
});

describe('refusals say, in people’s words, why nothing changed: the step, its state, and who acted when', () => {
  /** 14:02 on 25 November 2026 in the server's time zone, as the audit trail shows times. */
  const at1402 = new Date(2026, 10, 25, 14, 2).getTime();
  const withDetails = (snapshot: JobSnapshot, details: Record<string, StepDetails>) => ({ ...snapshot, details: new Map(Object.entries(details)) });

  it('a second Approve names who approved the gate, and when', () => {
    const snapshot = withDetails(job({ database: 'succeeded' }), { database: { outputs: {}, approvedBy: 'dana.approver', finishedAt: at1402 } });
    expect(planAction(snapshot, { kind: 'approve', stepId: 'database' })).toEqual({
      ok: false,
      reason: 'database was already approved by dana.approver at 14:02 on 25 November',
    });
    expect(planAction(snapshot, { kind: 'reject', stepId: 'database' })).toMatchObject({
      reason: 'database was already approved by dana.approver at 14:02 on 25 November',
    });
  });

  it('approved but not finished yet: who, without a time', () => {
    const snapshot = withDetails(job({ database: 'running' }), { database: { outputs: {}, approvedBy: 'dana.approver' } });
    expect(planAction(snapshot, { kind: 'approve', stepId: 'database' })).toMatchObject({ reason: 'database was already approved by dana.approver' });
  });

  it('a step done by hand names who overrode it and why', () => {
    const snapshot = withDetails(job({ database: 'succeeded', secrets: 'overridden' }), {
      secrets: { outputs: {}, override: { by: 'sam', reason: 'created by hand' } },
    });
    for (const kind of ['retry', 'override', 'approve'] as const) {
      expect(planAction(snapshot, { kind, stepId: 'secrets' })).toMatchObject({
        ok: false,
        reason: expect.stringContaining('secrets was already done by hand: sam overrode it ("created by hand")'),
      });
    }
  });

  it('retrying a step that succeeded says it is done, and when it finished', () => {
    const snapshot = withDetails(job({ database: 'succeeded' }), { database: { outputs: {}, finishedAt: at1402 } });
    expect(planAction(snapshot, { kind: 'retry', stepId: 'database' })).toEqual({
      ok: false,
      reason: 'database has not failed, so there is nothing to retry: it is done (finished at 14:02 on 25 November)',
    });
  });

  it('input given twice: the step already has it', () => {
    const snapshot = withDetails(job({ database: 'succeeded', secrets: 'running' }), { secrets: { outputs: {}, providedInput: { url: 'x' } } });
    expect(planAction(snapshot, { kind: 'provide_input', stepId: 'secrets' })).toMatchObject({
      reason: 'secrets already has the input it was waiting for, and is running',
    });
  });

  it('uses step labels and plain states, never ids or state codes', () => {
    const snapshot = job({ database: 'succeeded', seed_data: 'compensation_failed' }, 'rollback');
    const refusals = [
      planAction(snapshot, { kind: 'approve', stepId: 'seed_data' }),
      planAction(job({ database: 'succeeded', seed_data: 'pending' }), { kind: 'approve', stepId: 'seed_data' }),
      planAction(snapshot, { kind: 'cancel' }),
    ];
    expect(refusals).toEqual([
      { ok: false, reason: 'the job is in a rollback that failed, so seed data can no longer change' },
      { ok: false, reason: 'seed data is not waiting for approval: it is waiting for earlier steps' },
      { ok: false, reason: 'the job is already in a rollback that failed' },
    ]);
    expect(JSON.stringify(refusals)).not.toMatch(/seed_data|compensation_failed|_/);
  });
});

describe('a Retry or Override button drawn for one failure', () => {
  const startedAt = 1_767_225_600_123;
  const billing = (state: StepState, attemptStart?: number) => ({
    id: 'billing',
    state,
    ...(attemptStart !== undefined ? { startedAt: attemptStart } : {}),
  });

  it('acts while that failure is still the step’s current one', () => {
    expect(staleFailure(billing('failed', startedAt), startedAt)).toBeNull();
  });

  it('is out of date once the step was retried and failed again: a new attempt, a new failure', () => {
    expect(staleFailure(billing('failed', startedAt + 5_000), startedAt)).toEqual({ stepId: 'billing', why: 'failed_again', state: 'failed' });
  });

  it('is out of date once the failure was dealt with, whatever the step does now', () => {
    for (const state of ['ready', 'running', 'succeeded', 'overridden'] as const) {
      expect(staleFailure(billing(state, startedAt), startedAt)).toEqual({ stepId: 'billing', why: 'moved_on', state });
    }
  });

  it('a button that names no attempt (drawn before buttons did) is left to the plan’s own checks', () => {
    expect(staleFailure(billing('failed', startedAt), undefined)).toBeNull();
  });

  it('the refusal is an ActionRefusedError that keeps what made it stale', () => {
    const err = new StaleFailureError({ stepId: 'billing', why: 'failed_again', state: 'failed' });
    expect(err).toBeInstanceOf(ActionRefusedError);
    expect(err.stale.why).toBe('failed_again');
    expect(err.message).toBe('billing has been retried and failed again since that failure; act on its latest failure');
  });
});
