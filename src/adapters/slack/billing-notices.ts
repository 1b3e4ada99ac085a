/** Billing notices for people: posted in #onboarding, or logged where Slack is off. */
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.ts';
import type { BillingNotices, UnknownTenantReport } from '../../ports/billing-follow-ups.ts';
import { driftNotice, unknownTenantMessage } from '../../slack/blocks/billing.ts';
import type { DriftReport } from '../../app/billing.ts';

export class SlackBillingNotices implements BillingNotices {
  private readonly client: WebClient;
  private readonly channel: string;

  constructor(client: WebClient, channel: string) {
    this.client = client;
    this.channel = channel;
  }

  async unknownTenant(report: UnknownTenantReport): Promise<void> {
    await this.client.chat.postMessage({ channel: this.channel, ...unknownTenantMessage(report) });
  }

  async drift(report: DriftReport): Promise<void> {
    await this.client.chat.postMessage({ channel: this.channel, ...driftNotice(report) });
  }
}

export class LoggedBillingNotices implements BillingNotices {
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  async unknownTenant(report: UnknownTenantReport): Promise<void> {
    this.log.warn({ billing: report }, unknownTenantMessage(report).text);
  }

  async drift(report: DriftReport): Promise<void> {
    this.log.warn({ drift: report.drift, slug: report.slug }, driftNotice(report).text);
  }
}
