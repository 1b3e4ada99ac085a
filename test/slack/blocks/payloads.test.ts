/**
 * Every builder, fed a company, requester, errors and summaries that try to
 * ping the channel and format text: nothing they typed may become markup,
 * and nothing may break a Slack limit.
 */
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../src/domain/events.ts';
import type { StepView } from '../../../src/domain/job-view.ts';
import {
  approvalRequest,
  auditBlocks,
  completed,
  eventLine,
  inputModal,
  inputRequested,
  intakeModal,
  LIMITS,
  listBlocks,
  progressMessage,
  reasonModal,
  refusal,
  rollbackUpdate,
  statusBlocks,
  stepFailed,
} from '../../../src/slack/blocks/index.ts';
import { blockErrors, viewErrors } from '../../support/slack-fake.ts';
import { allTexts, buttons, job, realManifests, step } from './fixtures.ts';

/** Every mrkdwn text object in a payload. */
function mrkdwnObjects(payload: unknown): Record<string, unknown>[] {
  if (Array.isArray(payload)) return payload.flatMap(mrkdwnObjects);
  if (payload === null || typeof payload !== 'object') return [];
  const found = Object.values(payload).flatMap(mrkdwnObjects);
  return Reflect.get(payload, 'type') === 'mrkdwn' ? [{ ...payload }, ...found] : found;
}

const hostile = '<!channel> & *Co*';
const steps: StepView[] = [
  step('approval_gate', 'waiting_approval', { waitingFor: `Reason for ${hostile}; <!here> please` }),
  step('billing', 'failed', { error: `rejected ${hostile} <!everyone> _now_` }),
  step('sso', 'waiting_input', { waitingFor: `metadata for ${hostile}` }),
  step('dns', 'overridden', { override: { by: '<!here>', reason: hostile } }),
  step('database', 'compensation_failed', { error: hostile }),
];
const view = { ...job({ status: 'failed', companyName: hostile, steps }), requestedBy: '<!here> `x`', crmOpportunityId: '<!channel>' };
const [gate, billing, sso] = steps;
if (!gate || !billing || !sso) throw new Error('fixture steps missing');

const event: JobEvent = {
  type: 'step.compensation_failed',
  jobId: view.jobId,
  stepId: 'database',
  at: Date.UTC(2026, 10, 25, 9, 0),
  actor: 'provisioner',
  summary: `Could not undo database for ${hostile}`,
  error: `<!channel> ${hostile}`,
};

const messages = {
  progress: progressMessage(view, { auditCommand: '/provision' }),
  approval: approvalRequest(view, gate, { userIds: ['U0APPROVER'], groupId: 'S0DESK' }),
  failed: stepFailed(view, billing),
  input: inputRequested(view, sso),
  rollback: rollbackUpdate({ ...view, status: 'rollback_failed' }, event),
  completed: completed({ ...view, status: 'live' }),
  event: eventLine(view, event),
  status: statusBlocks(view),
  audit: auditBlocks(view, ['Wednesday 25 November 2026', `  09:00 ${hostile} requested a tenant`], { verbose: false }),
  list: listBlocks([view]),
  refusal: refusal(`Not allowed for ${hostile}`),
};
const modals = {
  intake: intakeModal({ plans: realManifests().plans, selectedPlan: 'growth', initial: { companyName: hostile }, privateMetadata: hostile }),
  reason: reasonModal('override', { jobId: view.jobId, stepId: 'billing', seq: 1 }, hostile),
  input: inputModal({ jobId: view.jobId, stepId: 'sso', seq: 1 }, sso),
};
const payloads = Object.entries({ ...messages, ...modals });

/** The only markup we write ourselves: mentions of known ids, dates and the tenant link. */
const OUR_MARKUP = /^<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!date\^\d+\^\{time\}\|[^>]*|https:\/\/[^|>]+\|[^>]*)>/;

describe('text someone typed, in every payload', () => {
  it.each(payloads)('%s: pings nobody', (_name, payload) => {
    for (const text of allTexts(payload)) {
      expect(text).not.toMatch(/<!(channel|here|everyone)>/);
      expect(text).not.toMatch(/@(channel|here|everyone)\b/);
    }
  });

  it.each(payloads)('%s: every "<" opens markup we wrote', (_name, payload) => {
    for (const text of allTexts(payload)) {
      for (const match of text.matchAll(/</g)) expect(text.slice(match.index)).toMatch(OUR_MARKUP);
    }
  });

  it.each(payloads)('%s: formats nothing, yet keeps every character: "*Co*" only inside a code span', (_name, payload) => {
    // The top-level text is the plain notification fallback: escaped, never formatted, so it keeps "*Co*" as typed.
    const { text: _fallback, ...rendered } = { text: '', ...payload };
    const texts = allTexts(rendered).join('\n');
    expect(texts.replace(/`[^`]*`/g, '')).not.toContain('*Co*');
    expect(texts).not.toMatch(/[\u2217\u02CD\u223C\u02CB\u00AD\u2060]/);
  });

  it.each(payloads)('%s: every mrkdwn text is verbatim, so Slack links and mentions only what we wrote', (_name, payload) => {
    for (const text of mrkdwnObjects(payload)) expect(text).toMatchObject({ verbatim: true });
  });
});

describe('Slack limits, in every payload', () => {
  it.each(payloads)('%s: texts within 3000 characters, buttons within 75', (_name, payload) => {
    for (const text of allTexts(payload)) expect(text.length).toBeLessThanOrEqual(LIMITS.text);
    for (const b of buttons(payload)) expect(b.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
  });

  it.each(Object.entries(messages))('%s: Slack accepts its blocks', (_name, message) => {
    expect(blockErrors(message.blocks, LIMITS.messageBlocks, '/blocks')).toEqual([]);
  });

  it.each(Object.entries(modals))('%s: Slack accepts the modal', (_name, modal) => {
    expect(viewErrors(modal)).toEqual([]);
  });

  it.each(Object.entries(messages))('%s: at most 50 blocks', (_name, message) => {
    expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
  });

  it.each(Object.entries(modals))('%s: at most 100 blocks, title within 24, metadata within 3000', (_name, modal) => {
    expect(modal.blocks.length).toBeLessThanOrEqual(LIMITS.modalBlocks);
    expect(modal.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
    expect((modal.private_metadata ?? '').length).toBeLessThanOrEqual(LIMITS.privateMetadata);
  });

  it('hold for a 1000-step pipeline with a huge company name', () => {
    const many = Array.from({ length: 1000 }, (_, i) => step(`step_${i}`, i % 2 ? 'failed' : 'succeeded', { error: 'x'.repeat(5000) }));
    const huge = job({ status: 'failed', companyName: `${hostile} `.repeat(400), steps: many });
    const failedStep = step('step_1', 'failed', { error: 'x'.repeat(5000) });
    for (const message of [progressMessage(huge, { auditCommand: '/provision' }), statusBlocks(huge), stepFailed(huge, failedStep)]) {
      expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
      for (const text of allTexts(message)) expect(text.length).toBeLessThanOrEqual(LIMITS.text);
    }
  });
});
