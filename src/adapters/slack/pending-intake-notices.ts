/**
 * Notices of deals a CRM sent that need a person, in #onboarding: posted once
 * (the service remembers where, so a redelivery does not post again), and
 * edited to say who completed it. Slack's "try again" is tried again, as for
 * job messages.
 */
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { PendingIntake } from '../../domain/crm-deal.ts';
import type { PendingIntakeNotices } from '../../ports/notifier.ts';
import { pendingIntakeNotice } from '../../slack/blocks/index.ts';
import { deliver, type RetryPolicy } from './delivery.ts';

const RefSchema = z.object({ channel: z.string(), ts: z.string() });

export class SlackPendingIntakeNotices implements PendingIntakeNotices {
  private readonly opts: { client: WebClient; channel: string; retry?: RetryPolicy };

  constructor(opts: { client: WebClient; channel: string; retry?: RetryPolicy }) {
    this.opts = opts;
  }

  async post(pending: PendingIntake): Promise<string> {
    const { client, channel, retry } = this.opts;
    const posted = await deliver(
      `the notice of ${pending.source} opportunity ${pending.opportunityId}`,
      () => client.chat.postMessage({ channel, ...pendingIntakeNotice(pending) }),
      retry,
    );
    if (!posted.ts) throw new Error(`Slack posted the notice of opportunity ${pending.opportunityId} without a ts`);
    return JSON.stringify({ channel: posted.channel ?? channel, ts: posted.ts });
  }

  async markCompleted(pending: PendingIntake, ref: string): Promise<void> {
    const parsed = RefSchema.safeParse(JSON.parse(ref));
    if (!parsed.success) throw new Error(`the notice of opportunity ${pending.opportunityId} has a reference this version cannot read`);
    const { client, retry } = this.opts;
    await deliver(
      `the completed notice of opportunity ${pending.opportunityId}`,
      () => client.chat.update({ ...parsed.data, ...pendingIntakeNotice(pending) }),
      retry,
    );
  }
}
