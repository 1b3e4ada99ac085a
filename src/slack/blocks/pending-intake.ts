/**
 * A deal a CRM sent that needs a person, in #onboarding: what could not be
 * resolved, what the CRM sent, and "Complete in Slack", which opens the
 * intake modal prefilled with it. Once someone completed it, the same notice
 * says who and which tenant it became, without the button.
 */
import type { ModalView } from '@slack/types';
import type { PendingIntake } from '../../domain/crm-deal.ts';
import type { PlansManifest } from '../../domain/plan.ts';
import { ACTIONS } from './actions.ts';
import { actions, button, context, message, section, type SlackMessage } from './elements.ts';
import { intakeModal } from './intake-modal.ts';
import { code, literal } from './text.ts';

/** What the completion modal carries back: where to answer, and which pending intake it completes. */
export type CompletionMetadata = { channel: string | undefined; pendingIntake: string };

export function pendingIntakeNotice(pending: PendingIntake): SlackMessage {
  const opportunity = code(pending.opportunityId);
  const sent = pending.sent.map(({ field, value }) => `• ${code(field)}: ${value === null ? '_(empty)_' : literal(value)}`);
  const needs = pending.problems.map((p) => `• ${literal(p.message)}`);
  if (pending.completed) {
    const { by, slug } = pending.completed;
    const done = `:white_check_mark: ${literal(by)} completed the deal ${literal(pending.source)} sent for opportunity ${opportunity}: tenant ${code(slug)}.`;
    return message(`${by} completed the deal ${pending.source} sent for opportunity ${pending.opportunityId}`, [section(done)]);
  }
  const headline = `:warning: ${literal(pending.source)} sent a closed deal (opportunity ${opportunity}) that needs a person before it can be provisioned.`;
  return message(`${pending.source} sent a deal that needs a person: opportunity ${pending.opportunityId}`, [
    section(headline),
    section(`*What needs a person*\n${needs.join('\n')}`),
    section(`*What ${literal(pending.source)} sent*\n${sent.join('\n') || '_nothing mapped_'}`),
    actions('pending_intake', button({ actionId: ACTIONS.completeIntake, text: 'Complete in Slack', value: pending.id, style: 'primary' })),
    context(`Notification ${code(pending.id)}. Salesforce was answered, so it will not send this again.`),
  ]);
}

/** The intake modal prefilled with what the CRM sent; submitting it completes the pending intake. */
export function completionModal(pending: PendingIntake, plans: PlansManifest, channel: string | undefined): ModalView {
  const metadata: CompletionMetadata = { channel, pendingIntake: pending.id };
  return intakeModal({
    plans,
    initial: pending.prefill,
    ...(pending.prefill.plan !== undefined ? { selectedPlan: pending.prefill.plan } : {}),
    privateMetadata: JSON.stringify(metadata),
  });
}
