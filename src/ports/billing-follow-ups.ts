/**
 * What happens after a billing event is recorded runs as a durable job
 * (BullMQ), keyed by the event: scheduling the same event twice runs it once
 * while the first is kept, and the follow-up itself is idempotent.
 */
import type { DriftReport } from '../app/billing.ts';
export interface BillingFollowUps {
  schedule(eventKey: string): Promise<void>;
  /** After a failed payment: look again once the grace period is over (a delayed job, not a sleeping worker). */
  scheduleGraceEnd(eventKey: string, delayMs: number): Promise<void>;
}

/** Who hears about billing events people must act on (#onboarding). */
export interface BillingNotices {
  unknownTenant(report: UnknownTenantReport): Promise<void>;
  /** New drift, with Fix and Ignore for people to act on. */
  drift(report: DriftReport): Promise<void>;
}

/** Business facts only: the payload's company, plan and subscription state, never a secret or a raw payload. */
export type UnknownTenantReport = {
  source: 'stripe' | 'bunny';
  sourceType: string;
  /** How the event named the tenant: our slug (tenant code) or the billing customer id. */
  named: string;
  company: string | undefined;
  plan: string | undefined;
  subscriptionState: string | undefined;
  /** Why it was not provisioned (provisioning off for this source, or what refused it). */
  why: string;
};
