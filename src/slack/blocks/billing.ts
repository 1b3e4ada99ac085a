/**
 * #onboarding messages about billing: an event for a tenant we do not know,
 * with the payload's business facts (company, plan, subscription state) so
 * someone can tell which deal it is — never ids of secrets or the raw payload.
 */
import type { View } from '@slack/types';
import type { DriftReport } from '../../app/billing.ts';
import { driftLine, hasDrift } from '../../domain/drift.ts';
import type { UnknownTenantReport } from '../../ports/billing-follow-ups.ts';
import { actions, button, confirmDialog, context, message, plain, section, type SlackMessage } from './elements.ts';
import { escapeMrkdwn } from './text.ts';

const SOURCE_NAMES = { stripe: 'Stripe', bunny: 'Bunny' } as const;

export function unknownTenantMessage(report: UnknownTenantReport): SlackMessage {
  const source = SOURCE_NAMES[report.source];
  const facts = [
    `*Company:* ${escapeMrkdwn(report.company ?? 'not in the event')}`,
    `*Plan:* ${escapeMrkdwn(report.plan ?? 'not in the event')}`,
    `*Subscription:* ${escapeMrkdwn(report.subscriptionState ?? 'not in the event')}`,
  ];
  const headline = `${source} sent ${report.sourceType} for ${report.named}, a tenant the provisioner does not know`;
  return message(headline, [section(`:grey_question: ${escapeMrkdwn(headline)}.`), section(facts.join('\n')), context(escapeMrkdwn(report.why))]);
}

/** Action ids of the nightly drift notice's buttons; the value is the tenant's slug. */
export const DRIFT_ACTIONS = { fix: 'drift_fix', ignore: 'drift_ignore' } as const;
export const DRIFT_IGNORE_MODAL = 'drift_ignore_modal';
export const DRIFT_REASON_BLOCK = { blockId: 'drift_reason', actionId: 'reason' } as const;

function driftLines(report: DriftReport): string[] {
  const lines: string[] = [];
  if (report.drift.paidNotEnabled.length > 0) {
    lines.push(
      '*Paid but not enabled* (lost value, churn risk):',
      ...report.drift.paidNotEnabled.map((item) => `• ${escapeMrkdwn(driftLine(item))}`),
    );
  }
  if (report.drift.enabledNotPaid.length > 0) {
    lines.push(
      '*Enabled but not paid* (an upsell the account team may not know about):',
      ...report.drift.enabledNotPaid.map((item) => `• ${escapeMrkdwn(driftLine(item))}`),
    );
  }
  return lines;
}

/** `/provision drift [slug]`: answered privately. */
export function driftAnswer(reports: readonly DriftReport[], asked: string | undefined): SlackMessage {
  const drifting = reports.filter((r) => hasDrift(r.drift));
  if (drifting.length === 0) {
    const text = asked ? `${asked} has what billing pays for: no drift.` : 'No tenant drifts from what billing pays for.';
    return message(text, [section(escapeMrkdwn(text))]);
  }
  const blocks = drifting.flatMap((report) => [
    section(`*${escapeMrkdwn(report.companyName)}* (${escapeMrkdwn(report.slug)})\n${driftLines(report).join('\n')}`),
  ]);
  return message(`${drifting.length} tenant${drifting.length === 1 ? '' : 's'} drift from what billing pays for`, blocks);
}

/** The nightly check's post in #onboarding: new drift, with Fix (apply billing's truth) and Ignore (with a reason). */
export function driftNotice(report: DriftReport): SlackMessage {
  const headline = `${report.companyName} (${report.slug}) drifts from what billing pays for`;
  return message(headline, [
    section(`:scales: *${escapeMrkdwn(report.companyName)}* (${escapeMrkdwn(report.slug)}) drifts from what billing pays for.`),
    section(driftLines(report).join('\n')),
    actions(
      `drift:${report.slug}`,
      button({
        actionId: DRIFT_ACTIONS.fix,
        text: 'Fix',
        value: report.slug,
        style: 'primary',
        confirm: confirmDialog({
          title: 'Apply billing’s truth?',
          text: `The tenant's flags and limits become what billing pays for. It runs as a job with its own trail.`,
          confirm: 'Fix',
          deny: 'Not now',
        }),
      }),
      button({ actionId: DRIFT_ACTIONS.ignore, text: 'Ignore…', value: report.slug }),
    ),
    context('Ignoring asks for a reason, kept with your name; the nightly check stays quiet until this drift changes.'),
  ]);
}

/** The Ignore button's modal: the reason is required. */
export function driftIgnoreModal(slug: string): View {
  return {
    type: 'modal',
    callback_id: DRIFT_IGNORE_MODAL,
    private_metadata: slug,
    title: plain('Ignore drift', 24),
    submit: plain('Ignore', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(`Why may ${escapeMrkdwn(slug)} keep this drift? Your reason is kept with your name.`),
      {
        type: 'input',
        block_id: DRIFT_REASON_BLOCK.blockId,
        label: plain('Reason'),
        element: { type: 'plain_text_input', action_id: DRIFT_REASON_BLOCK.actionId, multiline: true, min_length: 3, max_length: 500 },
      },
    ],
  };
}
