/** The job status while rolling back: a failed undo stops the steps beneath it, so the rollback is failed, not still running. */
import { describe, expect, it } from 'vitest';
import { deriveJobStatus, JOB_STATUSES, releasesSlug, type JobSnapshot, type StepSnapshot, type StepState } from '../../src/domain/job.ts';

/** database → secrets → sso, database → flags. */
function rollingBack(states: Record<string, StepState>): Pick<JobSnapshot, 'mode' | 'steps'> {
  const edges: Record<string, string[]> = { database: [], secrets: ['database'], sso: ['secrets'], flags: ['database'] };
  const steps = new Map<string, StepSnapshot>();
  for (const [id, needs] of Object.entries(edges)) {
    const dependents = Object.entries(edges)
      .filter(([, n]) => n.includes(id))
      .map(([d]) => d);
    steps.set(id, { id, state: states[id] ?? 'compensated', ticket: 2, remaining: 0, criticality: 'blocking', needs, dependents });
  }
  return { mode: 'rollback', steps };
}

describe('status of a rollback', () => {
  it('is rollback_failed once the only steps still compensating wait on a failed undo', () => {
    expect(deriveJobStatus(rollingBack({ sso: 'compensation_failed', secrets: 'compensating', database: 'compensating' }))).toBe('rollback_failed');
  });

  it('is rolling_back while some undo can still make progress', () => {
    expect(
      deriveJobStatus(rollingBack({ sso: 'compensation_failed', secrets: 'compensating', database: 'compensating', flags: 'compensating' })),
    ).toBe('rolling_back');
    expect(deriveJobStatus(rollingBack({ sso: 'compensating', secrets: 'compensating', database: 'compensating' }))).toBe('rolling_back');
  });

  it('is rolled_back when everything was undone', () => {
    expect(deriveJobStatus(rollingBack({}))).toBe('rolled_back');
  });
});

describe('who holds a tenant slug', () => {
  it('a rejected, rolled back or cancelled job frees it; every other status keeps it', () => {
    const freeing = JOB_STATUSES.filter(releasesSlug);
    expect(freeing).toEqual(['cancelled', 'rejected', 'rolled_back']);
  });
});
