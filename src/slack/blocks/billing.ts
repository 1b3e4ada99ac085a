/**
 * #onboarding messages about billing: an event for a tenant we do not know,
 * with the payload's business facts (company, plan, subscription state) so
 * someone can tell which deal it is — never ids of secrets or the raw payload.
 */
import type { UnknownTenantReport } from '../../ports/billing-follow-ups.ts';
import { context, message, section, type SlackMessage } from './elements.ts';
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
