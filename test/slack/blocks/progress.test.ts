import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../../src/domain/job.ts';
import { ACTIONS, decodeAction } from '../../../src/slack/blocks/actions.ts';
import { progressMessage } from '../../../src/slack/blocks/progress.ts';
import { LIMITS } from '../../../src/slack/blocks/text.ts';
import { allTexts, buttons, job, step, typicalSteps } from './fixtures.ts';

const audit = { auditCommand: '/provision audit acme' };

describe('the progress message of a job halfway through', () => {
  const view = job({ status: 'failed', steps: typicalSteps() });
  const message = progressMessage(view, audit);
  const text = allTexts(message).join('\n');

  it('names the tenant, plan, slug and requester', () => {
    expect(text).toContain('*Acme Corp* · enterprise plan · `acme`');
    expect(text).toContain('Requested by alice.ae · CRM `006ACME0001`');
  });

  it('names a program that asked through the API, with the opportunity it asked for', () => {
    const fromCrm = { ...view, requestedBy: 'Salesforce', requester: { door: 'api' as const, id: 'salesforce' } };
    expect(allTexts(progressMessage(fromCrm, audit)).join('\n')).toContain('Requested by Salesforce through the API (opportunity `006ACME0001`)');
  });

  it('shows one line per step with its state and duration', () => {
    expect(text).toContain(':white_check_mark: *database* — done · 1.2 s');
    expect(text).toContain(':x: *billing* — failed: price_enterprise_annual: rejected by the billing provider (card declined)');
    expect(text).toContain(':white_circle: *welcome email* — waiting for earlier steps _(best effort)_');
  });

  it('shows the overall progress and what it waits for', () => {
    expect(text).toContain('▰▰▰▰▰▱▱▱▱▱ 5/10 steps');
    expect(text).toContain("Waiting for customer input (sso): the customer's IdP metadata URL");
    expect(text).toContain('Failed: needs a person');
  });

  it('ends with the job id and the audit command', () => {
    expect(text).toContain('Job `acme-3f9a1c0b2d` · Audit: `/provision audit acme`');
  });

  it('offers to share the customer status page, and a roll back behind a confirmation, each carrying the job and its seq', () => {
    const [share, rollback, ...others] = buttons(message);
    expect(others).toEqual([]);
    expect(share).toMatchObject({ action_id: ACTIONS.shareStatus, text: 'Share status page' });
    expect(decodeAction(share?.value ?? '')).toEqual({ jobId: 'acme-3f9a1c0b2d', seq: 17 });
    expect(rollback).toMatchObject({ action_id: ACTIONS.rollback, text: 'Roll back', style: 'danger', hasConfirm: true });
    expect(decodeAction(rollback?.value ?? '')).toEqual({ jobId: 'acme-3f9a1c0b2d', seq: 17 });
  });

  it('has a plain fallback text for notifications', () => {
    expect(message.text).toBe('Acme Corp (acme): Failed: needs a person (retry, override or roll back) (5/10 steps)');
  });
});

describe('the roll back button', () => {
  const withStatus = (status: JobStatus) =>
    buttons(progressMessage(job({ status, steps: typicalSteps() }), audit))
      .map((b) => b.text)
      .filter((text) => text !== 'Share status page');

  it.each<JobStatus>(['live', 'failed', 'awaiting_approval', 'awaiting_input'])('is there when the job is %s', (status) => {
    expect(withStatus(status)).toEqual(['Roll back']);
  });

  it('becomes "Retry rollback" when an undo failed', () => {
    expect(withStatus('rollback_failed')).toEqual(['Retry rollback']);
  });

  it.each<JobStatus>(['rolled_back', 'rejected', 'running', 'rolling_back'])('is gone when the job is %s', (status) => {
    expect(withStatus(status)).toEqual([]);
  });
});

describe('the share button', () => {
  const shares = (status: JobStatus) =>
    buttons(progressMessage(job({ status, steps: typicalSteps() }), audit)).filter((b) => b.text === 'Share status page').length;

  it.each<JobStatus>(['running', 'awaiting_approval', 'awaiting_input', 'failed', 'live'])('is there while the job is %s', (status) => {
    expect(shares(status)).toBe(1);
  });

  it.each<JobStatus>(['cancelled', 'rejected', 'rolling_back', 'rolled_back', 'rollback_failed'])('is gone once the job is %s', (status) => {
    expect(shares(status)).toBe(0);
  });
});

describe('a 60-step pipeline: ten done, fifty failed verbosely', () => {
  const steps = Array.from({ length: 60 }, (_, i) =>
    step(`step_${String(i).padStart(2, '0')}`, i < 10 ? 'succeeded' : 'failed', {
      error: `upstream said no: ${'detail '.repeat(80)}`,
      durationMs: 1500,
    }),
  );
  const message = progressMessage(job({ status: 'failed', steps }), { auditCommand: '/provision' });
  const texts = allTexts(message);

  it('stays within 50 blocks', () => {
    expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
  });

  it('keeps every text within 3000 characters', () => {
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(LIMITS.text);
  });

  it('folds finished steps and points at the audit for the rest', () => {
    const all = texts.join('\n');
    expect(all).toContain(':white_check_mark: 10 steps done: step 00, step 01, step 02');
    expect(all).toMatch(/…and \d+ more steps \(see `\/provision audit acme`\)/);
  });

  it('keeps button labels within 75 characters', () => {
    for (const b of buttons(message)) expect(b.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
  });
});
