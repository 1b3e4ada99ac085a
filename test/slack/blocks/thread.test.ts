import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../src/domain/events.ts';
import type { StepView } from '../../../src/domain/job-view.ts';
import {
  ACTIONS,
  approvalRequest,
  completed,
  decodeAction,
  eventLine,
  inputRequested,
  rollbackUpdate,
  stepFailed,
} from '../../../src/slack/blocks/thread.ts';
import { allTexts, buttons, job, step, typicalSteps } from './fixtures.ts';

const gate = step('approval_gate', 'waiting_approval', {
  type: 'approval',
  waitingFor: 'Plan uses a dedicated database; Custom data residency: eu',
});
const waiting = job({ status: 'awaiting_approval', steps: [gate, step('database', 'pending')] });

describe('an approval request in the thread', () => {
  const message = approvalRequest(waiting, gate, { userIds: ['U012APPROVE', 'W0SECOND'], groupId: 'S0DEALDESK' });
  const text = allTexts(message).join('\n');

  it('mentions the approvers and their group', () => {
    expect(text).toContain('<!subteam^S0DEALDESK> <@U012APPROVE> <@W0SECOND>');
    expect(message.text).toContain('<@U012APPROVE>');
  });

  it('lists why approval is needed, one reason a line', () => {
    expect(text).toContain('• Plan uses a dedicated database\n• Custom data residency: eu');
  });

  it('offers Approve (primary, confirmed) and Reject (danger), both pointing at the gate and the seq', () => {
    const [approve, reject] = buttons(message);
    expect(approve).toMatchObject({ action_id: ACTIONS.approve, text: 'Approve', style: 'primary', hasConfirm: true });
    expect(reject).toMatchObject({ action_id: ACTIONS.reject, text: 'Reject', style: 'danger' });
    for (const b of [approve, reject]) expect(decodeAction(b?.value ?? '')).toEqual({ jobId: 'acme-3f9a1c0b2d', stepId: 'approval_gate', seq: 17 });
  });

  it('never turns a malformed id into markup', () => {
    const odd = approvalRequest(waiting, gate, { userIds: ['channel', 'U1|x>'], groupId: 'here' });
    const all = allTexts(odd).join('\n');
    expect(all).not.toContain('<@channel>');
    expect(all).not.toContain('<!subteam^here>');
    expect(all).not.toContain('<@U1|x>');
  });
});

describe('a failed step', () => {
  const billing = step('billing', 'failed', { error: 'card declined\nby the <provider>' });
  const message = stepFailed(job({ status: 'failed', steps: [billing] }), billing);
  const text = allTexts(message).join('\n');

  it('quotes the error in plain words, escaped', () => {
    expect(text).toContain('>card declined\n>by the &lt;provider&gt;');
  });

  it('says that provisioning is paused and what each button does', () => {
    expect(text).toContain('Provisioning is paused');
  });

  it('offers Retry and Override for that step', () => {
    expect(buttons(message).map((b) => [b.action_id, b.text, decodeAction(b.value ?? '')?.stepId])).toEqual([
      [ACTIONS.retry, 'Retry', 'billing'],
      [ACTIONS.override, 'Override', 'billing'],
    ]);
  });

  it('names the failed attempt in both buttons, so a later failure of billing gets buttons of its own', () => {
    const failed = step('billing', 'failed', { startedAt: 1_767_225_600_123, error: 'card declined' });
    const refs = buttons(stepFailed(job({ status: 'failed', steps: [failed] }), failed)).map((b) => decodeAction(b.value ?? ''));
    expect(refs).toEqual([0, 1].map(() => ({ jobId: 'acme-3f9a1c0b2d', stepId: 'billing', seq: 17, attemptStartedAt: 1_767_225_600_123 })));
  });

  it('drawn late, after the step moved on, offers no buttons and says where the step is now', () => {
    const retried = step('billing', 'running', { startedAt: 1_767_225_700_000, error: 'card declined' });
    const late = stepFailed(job({ status: 'running', steps: [retried] }), retried);
    expect(buttons(late)).toEqual([]);
    expect(allTexts(late).join('\n')).toContain('Since then:');
    expect(allTexts(late).join('\n')).toContain('>card declined');
  });

  it('tells a best-effort failure apart: the tenant still goes live', () => {
    const email = step('welcome_email', 'failed', { criticality: 'notification', error: 'mailbox full' });
    expect(allTexts(stepFailed(job({ status: 'live', steps: [email] }), email)).join('\n')).toContain('the tenant still goes live');
  });
});

describe('a step waiting for customer input', () => {
  const sso = step('sso', 'waiting_input', { waitingFor: "the customer's IdP metadata URL" });
  const message = inputRequested(job({ status: 'awaiting_input', steps: [sso] }), sso);

  it('says what it waits for and offers "Provide input"', () => {
    expect(allTexts(message).join('\n')).toContain(
      "Step *sso* for *Acme Corp* · enterprise plan · `acme` is waiting for the customer's IdP metadata URL",
    );
    expect(buttons(message)).toEqual([expect.objectContaining({ action_id: ACTIONS.provideInput, text: 'Provide input', style: 'primary' })]);
  });
});

const event = (type: JobEvent['type'], summary: string, extra: Partial<JobEvent> = {}): JobEvent => ({
  type,
  jobId: 'acme-3f9a1c0b2d',
  at: Date.UTC(2026, 10, 25, 9, 14),
  actor: 'provisioner',
  summary,
  ...extra,
});

describe('rollback updates', () => {
  it('report each undo as it happens', () => {
    const view = job({ status: 'rolling_back', steps: [step('database', 'compensated'), step('dns', 'compensating')] });
    const message = rollbackUpdate(view, event('step.compensated', 'Undone: Database tenant_acme created', { stepId: 'database', durationMs: 900 }));
    expect(allTexts(message).join('\n')).toContain(':leftwards_arrow_with_hook: Undone: Database tenant_acme created (900 ms)');
    expect(buttons(message)).toEqual([]);
  });

  it('offer to retry the rollback when an undo failed', () => {
    const view = job({ status: 'rollback_failed', steps: [step('dns', 'compensation_failed', { error: 'zone locked' })] });
    const message = rollbackUpdate(
      view,
      event('step.compensation_failed', 'Could not undo dns: zone locked', { stepId: 'dns', error: 'zone locked' }),
    );
    expect(buttons(message)).toEqual([expect.objectContaining({ action_id: ACTIONS.rollback, text: 'Retry rollback' })]);
  });

  it('close with what was undone, and what was done by hand and so left alone', () => {
    const view = job({
      status: 'rolled_back',
      steps: [
        step('database', 'compensated'),
        step('dns', 'compensated'),
        step('billing', 'overridden', { override: { by: 'sam', reason: 'by hand' } }),
      ],
    });
    const text = allTexts(rollbackUpdate(view, event('step.compensated', 'Undone: DNS record removed'))).join('\n');
    expect(text).toContain('*Rollback finished:* 2 steps undone.');
    expect(text).toContain('Done by hand, so not undone: billing.');
  });
});

describe('the tenant going live', () => {
  const steps = typicalSteps().map((s): StepView => {
    if (s.id === 'billing') {
      return { ...s, state: 'succeeded', outputs: { customerId: 'cus_ACME123' }, facts: [{ label: 'Billing customer', value: 'cus_ACME123' }] };
    }
    return { ...s, state: s.id === 'welcome_email' ? 'failed' : 'succeeded' };
  });
  const message = completed(job({ status: 'live', steps }));
  const text = allTexts(message).join('\n');

  it('links the tenant, shows the facts its steps declare, verbatim, and points at the audit', () => {
    expect(text).toContain('is live at <https://acme.tenants.example.com|acme.tenants.example.com>');
    expect(text).toContain('Billing customer: `cus_ACME123`');
    expect(text).toContain('Audit: `/provision audit acme`');
  });

  it('shows what a step declares, whatever the step is called, and guesses nothing from names or output keys', () => {
    const declared = step('payments', 'succeeded', { type: 'sandbox', facts: [{ label: 'Invoice account', value: 'acct_9' }] });
    const undeclared = step('billing', 'succeeded', { type: 'billing', outputs: { customerId: 'cus_GUESSED', customer_id: 'cus_GUESSED' } });
    const shown = allTexts(completed(job({ status: 'live', steps: [declared, undeclared] }))).join('\n');
    expect(shown).toContain('Invoice account: `acct_9`');
    expect(shown).not.toContain('cus_GUESSED');
  });

  it('shows only the facts of steps that are done', () => {
    const failed = step('payments', 'failed', { criticality: 'notification', facts: [{ label: 'Invoice account', value: 'acct_9' }] });
    expect(allTexts(completed(job({ status: 'live', steps: [failed] }))).join('\n')).not.toContain('acct_9');
  });

  it('mentions best-effort steps that failed', () => {
    expect(text).toContain('Best-effort steps that failed (retry them from their messages): welcome email');
  });
});

describe('other events', () => {
  it('become a one-line context with the time in the reader’s zone', () => {
    const message = eventLine(
      job({ status: 'running', steps: [] }),
      event('step.succeeded', 'DNS record acme.tenants.example.com created', { durationMs: 1200 }),
    );
    expect(message.blocks).toHaveLength(1);
    expect(allTexts(message.blocks)[0]).toBe(
      `<!date^${Date.UTC(2026, 10, 25, 9, 14) / 1000}^{time}|09:14 UTC> :white_check_mark: DNS record acme.tenants.example.com created (1.2 s)`,
    );
  });
});
