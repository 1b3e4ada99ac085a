/**
 * Billing events in: each provider's event, already mapped by its door to the
 * one entitlements event, is recorded durably once (by its provider event id)
 * before the door answers 2xx, then followed up by a durable job: applied to
 * a known tenant, or, for a tenant we do not know, reported in #onboarding
 * (or provisioned, when configured for that source).
 */
import { eventKey, type BillingSource, type EntitlementsEvent } from '../domain/entitlements.ts';
import type { BillingStore } from '../ports/billing-store.ts';
import type { BillingFollowUps, BillingNotices } from '../ports/billing-follow-ups.ts';

export type Received = { outcome: 'recorded' | 'duplicate'; key: string };

/** Applies a recorded event to a known tenant; answers what it did, for the inbox. */
export type ApplyEntitlements = (slug: string, event: EntitlementsEvent, key: string) => Promise<string>;

export type BillingDeps = {
  store: BillingStore;
  followUps: BillingFollowUps;
  notices: BillingNotices;
  provisionUnknownFrom: ReadonlySet<BillingSource>;
  /** Until the lifecycle jobs are wired, known tenants' events are only recorded. */
  apply?: ApplyEntitlements;
};

export class BillingService {
  private readonly deps: BillingDeps;

  constructor(deps: BillingDeps) {
    this.deps = deps;
  }

  /** Durable once recorded: the caller may answer 2xx. A redelivery records nothing new but makes sure its follow-up is scheduled. */
  async receive(event: EntitlementsEvent): Promise<Received> {
    const key = eventKey(event);
    const slug = await this.slugOf(event);
    if (event.tenant.slug !== undefined && event.tenant.customerId !== undefined) {
      await this.deps.store.rememberCustomer(event.source, event.tenant.customerId, event.tenant.slug);
    }
    const outcome = await this.deps.store.recordBillingEvent({ key, slug, event, receivedAt: new Date() });
    await this.deps.followUps.schedule(key);
    return { outcome, key };
  }

  /** The follow-up job: once per event, however often it is scheduled or retried. */
  async followUp(key: string): Promise<string> {
    const record = await this.deps.store.billingEvent(key);
    if (!record) return 'no such event';
    if (record.handled) return record.handled.outcome;
    const slug = record.slug ?? (await this.slugOf(record.event));
    const tenant = slug === undefined ? undefined : await this.deps.store.tenant(slug);
    const outcome = tenant ? await this.applyTo(tenant.slug, record.event, key) : await this.unknownTenant(record.event);
    await this.deps.store.markBillingEventHandled(key, outcome);
    return outcome;
  }

  private async applyTo(slug: string, event: EntitlementsEvent, key: string): Promise<string> {
    return this.deps.apply ? this.deps.apply(slug, event, key) : `recorded for ${slug}`;
  }

  private async unknownTenant(event: EntitlementsEvent): Promise<string> {
    const named = event.tenant.slug ?? `customer ${event.tenant.customerId}`;
    const provisioning = this.deps.provisionUnknownFrom.has(event.source);
    const why = provisioning
      ? `provisioning from ${event.source} events needs the deal's business facts, which ${event.sourceType} does not carry; provision it with /provision`
      : `provisioning unknown tenants from ${event.source} is off (BILLING_PROVISION_UNKNOWN_TENANTS)`;
    await this.deps.notices.unknownTenant({
      source: event.source,
      sourceType: event.sourceType,
      named,
      company: event.facts.company,
      plan: event.facts.plan,
      subscriptionState: event.facts.subscriptionState,
      why,
    });
    return `reported unknown tenant ${named}`;
  }

  private async slugOf(event: EntitlementsEvent): Promise<string | undefined> {
    if (event.tenant.slug !== undefined) return event.tenant.slug;
    return this.deps.store.tenantOfCustomer(event.source, event.tenant.customerId);
  }
}
