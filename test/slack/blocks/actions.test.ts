import { describe, expect, it } from 'vitest';
import { ACTIONS, decodeAction, encodeAction } from '../../../src/slack/blocks/actions.ts';
import { LIMITS } from '../../../src/slack/blocks/text.ts';

describe('button values', () => {
  it('round-trip a job, step and sequence number compactly', () => {
    const value = encodeAction({ jobId: 'acme-3f9a1c0b2d', stepId: 'billing', seq: 42 });
    expect(value).toBe('{"j":"acme-3f9a1c0b2d","s":"billing","q":42}');
    expect(decodeAction(value)).toEqual({ jobId: 'acme-3f9a1c0b2d', stepId: 'billing', seq: 42 });
  });

  it('carry, for Retry and Override, when the failed attempt started: the failure they were drawn for', () => {
    const value = encodeAction({ jobId: 'acme-3f9a1c0b2d', stepId: 'billing', seq: 42, attemptStartedAt: 1_767_225_600_123 });
    expect(value).toBe('{"j":"acme-3f9a1c0b2d","s":"billing","q":42,"a":1767225600123}');
    expect(decodeAction(value)).toEqual({ jobId: 'acme-3f9a1c0b2d', stepId: 'billing', seq: 42, attemptStartedAt: 1_767_225_600_123 });
    expect(decodeAction('{"j":"acme","s":"billing","q":4,"a":"yesterday"}')).toBeNull();
  });

  it('leave the step out for job-wide buttons such as roll back', () => {
    const value = encodeAction({ jobId: 'acme-3f9a1c0b2d', seq: 3 });
    expect(value).not.toContain('"s"');
    expect(decodeAction(value)).toEqual({ jobId: 'acme-3f9a1c0b2d', seq: 3 });
  });

  it('stay far below the 2000-character limit for the longest ids we allow', () => {
    expect(encodeAction({ jobId: 'j'.repeat(200), stepId: 's'.repeat(200), seq: Number.MAX_SAFE_INTEGER }).length).toBeLessThan(LIMITS.actionValue);
  });

  it.each([
    ['not JSON', 'approve acme'],
    ['truncated JSON', '{"j":"acme","q":4'],
    ['a string seq', '{"j":"acme","q":"4"}'],
    ['a negative seq', '{"j":"acme","q":-1}'],
    ['a fractional seq', '{"j":"acme","q":1.5}'],
    ['no job', '{"s":"billing","q":4}'],
    ['an empty job', '{"j":"","q":4}'],
    ['an extra key', '{"j":"acme","q":4,"admin":true}'],
    ['an array', '["acme",4]'],
    ['null', 'null'],
  ])('are refused when tampered: %s', (_name, value) => {
    expect(decodeAction(value)).toBeNull();
  });

  it('use the action ids the listeners register', () => {
    expect(ACTIONS).toEqual({
      approve: 'job_approve',
      reject: 'job_reject',
      retry: 'step_retry',
      override: 'step_override',
      rollback: 'job_rollback',
      provideInput: 'step_provide_input',
      shareStatus: 'job_share_status',
      cancel: 'job_cancel',
      completeIntake: 'crm_complete_intake',
    });
  });
});
