/**
 * Billing events in: each provider's event, already mapped by its door to the
 * one entitlements event, is recorded durably once (by its provider event id)
 * before the door answers 2xx, then followed up by a durable job: for a known
 * tenant, one sync_entitlements job per (tenant, event) applying billing's
 * newest truth; for a tenant we do not know, a report in #onboarding. A failed
 * payment suspends the tenant once the grace period passes unpaid (a delayed
 * job); a payment reactivates a tenant billing suspended.
 */
import {
  billingTruth,
  entitlementsOf,
  eventKey,
  type BillingSource,
  type BillingTruth,
  type EntitlementsEvent,
  type PlanCatalogue,
} from '../domain/entitlements.ts';
import { driftKey, driftOf, hasDrift, type Applied, type Drift } from '../domain/drift.ts';
import { ActionRefusedError, InvalidInputError, TenantBusyError, UnknownTenantError } from '../domain/errors.ts';
import type { Identity } from '../domain/policy.ts';
import { redactText } from '../domain/redact.ts';
import { isTenantStatus, TENANT_STATUS_WORDS, type TenantStatus } from '../domain/tenant-status.ts';
import { dayWords } from '../domain/wording.ts';
import type { BillingStore } from '../ports/billing-store.ts';
import type { BillingFollowUps, BillingNotices } from '../ports/billing-follow-ups.ts';
import type { LifecycleService } from './lifecycle.ts';

export type Received = { outcome: 'recorded' | 'duplicate'; key: string };

/** What the deal fixed for a tenant: the plan it is on and the negotiated per-deal flag overrides. */
export type TenantTerms = { planId: string; overrides: Readonly<Record<string, boolean>>; status: string; companyName: string };

/** One tenant's drift: what billing pays for against what the tenant has. */
export type DriftReport = { slug: string; companyName: string; drift: Drift; key: string };

export type BillingDeps = {
  store: BillingStore;
  followUps: BillingFollowUps;
  notices: BillingNotices;
  provisionUnknownFrom: ReadonlySet<BillingSource>;
  paymentGraceMs: number;
  catalogue: PlanCatalogue;
  terms(slug: string): Promise<TenantTerms | undefined>;
  /** The flags and limits the tenant's configuration record holds now. */
  applied(slug: string): Promise<Applied>;
  lifecycle: Pick<LifecycleService, 'syncEntitlements' | 'suspend' | 'reactivate'>;
  /** Provisions a tenant from business facts, as any door does (ProvisioningService.provision). */
  provision(intake: Record<string, unknown>, who: Identity): Promise<{ outcome: string; job: { jobId: string } }>;
  today(): string;
};

const SOURCE_NAMES: Readonly<Record<BillingSource, string>> = { stripe: 'Stripe', bunny: 'Bunny' };

/**
 * Tenants on their way out: billing's news is kept for the record but changes nothing on them.
 * Their subscription was set by the decommissioning to end with its period (still active till
 * then); the update saying so, and the deletion when the period ends, are expected, not news.
 */
const RETIRING: ReadonlySet<TenantStatus> = new Set(['decommissioning', 'decommissioned']);

function recordedOnly(slug: string, status: TenantStatus, truth: BillingTruth): string {
  const subscription = truth.subscription?.value;
  const ends =
    subscription?.endsAt !== undefined
      ? `; its subscription stays ${subscription.state} until the end of its period, ${dayWords(subscription.endsAt)}`
      : '';
  return `recorded only: ${slug} is ${TENANT_STATUS_WORDS[status]}, so billing changes are not applied to it${ends}`;
}

/** Billing sources act through the API door, named in the trail by their provider. */
export function billingIdentity(source: BillingSource): Identity {
  return { door: 'api', id: `billing:${source}`, name: `${SOURCE_NAMES[source]} billing`, roles: new Set() };
}

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
    const terms = slug === undefined ? undefined : await this.deps.terms(slug);
    const outcome = slug !== undefined && terms ? await this.applyTo(slug, terms, record.event, key) : await this.unknownTenant(record.event);
    await this.deps.store.markBillingEventHandled(key, outcome);
    return outcome;
  }

  /** Billing's truth for a tenant, from every event recorded for it. */
  async truthOf(slug: string): Promise<BillingTruth> {
    return billingTruth(await this.deps.store.billingEventsOf(slug));
  }

  /** Paid but not enabled, and enabled but not paid, for one tenant. */
  async drift(slug: string): Promise<DriftReport> {
    const terms = await this.deps.terms(slug);
    if (!terms) throw new UnknownTenantError(slug);
    const paid = entitlementsOf(await this.truthOf(slug), terms, this.deps.catalogue);
    const drift = driftOf(await this.deps.applied(slug), paid);
    return { slug, companyName: terms.companyName, drift, key: driftKey(drift) };
  }

  /** Every live or suspended tenant with drift. */
  async drifting(): Promise<DriftReport[]> {
    const reports: DriftReport[] = [];
    for (const slug of await this.deps.store.tenantSlugs()) {
      const report = await this.drift(slug).catch((err: unknown) => {
        if (err instanceof UnknownTenantError) return undefined;
        throw err;
      });
      if (report && hasDrift(report.drift)) reports.push(report);
    }
    return reports;
  }

  /** The nightly check's drift to post: drift not posted or ignored before (the same drift again is not news). */
  async newDrift(): Promise<DriftReport[]> {
    const fresh: DriftReport[] = [];
    for (const report of await this.drifting()) {
      const decided = await this.deps.store.driftDecision(report.slug);
      if (decided?.key === report.key) continue;
      await this.deps.store.saveDriftDecision({ slug: report.slug, key: report.key, state: 'posted', at: new Date() });
      fresh.push(report);
    }
    return fresh;
  }

  /** The nightly check: posts each new drift in #onboarding. */
  async postNewDrift(): Promise<string> {
    const fresh = await this.newDrift();
    for (const report of fresh) await this.deps.notices.drift(report);
    return `${fresh.length} new drift${fresh.length === 1 ? '' : 's'} posted`;
  }

  /** "Fix": apply billing's truth to the tenant, as a sync_entitlements job asked for by this person. */
  async fixDrift(slug: string, who: Identity): Promise<string> {
    const report = await this.drift(slug);
    if (!hasDrift(report.drift)) return `${slug} has no drift: it has what billing pays for`;
    const terms = await this.deps.terms(slug);
    if (!terms) throw new UnknownTenantError(slug);
    const truth = await this.truthOf(slug);
    const paid = entitlementsOf(truth, terms, this.deps.catalogue);
    const source = truth.subscription?.eventId ?? truth.features?.eventId ?? 'plan';
    const details = {
      features: paid.flags,
      limits: paid.limits,
      billing: {
        source: 'plan',
        state: paid.state ?? 'unknown',
        planId: paid.planId,
        payment: truth.payment?.value ?? 'unknown',
        eventKey: `drift:${source}`,
      },
    };
    const { job } = await this.deps.lifecycle.syncEntitlements(slug, who, {
      reason: `fix drift: apply what billing pays for (${report.key})`,
      requestKey: `drift-${report.key.length > 100 ? report.key.slice(0, 100) : report.key}`,
      details,
    });
    await this.deps.store.saveDriftDecision({ slug, key: report.key, state: 'fixed', at: new Date(), by: who.name });
    return job.jobId;
  }

  /** "Ignore": this drift is known and accepted; the nightly check stays quiet about it until it changes. */
  async ignoreDrift(slug: string, who: Identity, reason: string): Promise<DriftReport> {
    if (reason.trim().length < 3)
      throw new InvalidInputError([{ field: 'reason', message: 'Say why this drift may stay (it is kept with your name)' }]);
    const report = await this.drift(slug);
    await this.deps.store.saveDriftDecision({
      slug,
      key: report.key,
      state: 'ignored',
      at: new Date(),
      by: who.name,
      reason: redactText(reason.trim()),
    });
    return report;
  }

  /** The grace period after a failed payment is over: suspend unless a newer payment statement came meanwhile. */
  async graceEnded(key: string): Promise<string> {
    const record = await this.deps.store.billingEvent(key);
    const slug = record?.slug ?? (record ? await this.slugOf(record.event) : undefined);
    if (!record || slug === undefined) return 'no such event';
    const truth = await this.truthOf(slug);
    if (truth.payment?.eventId !== record.event.sourceEventId) return `not suspended: ${slug} has paid since`;
    const who = billingIdentity(record.event.source);
    const hours = Math.round(this.deps.paymentGraceMs / 3_600_000);
    const ask = {
      reason: `payment failed and the grace period of ${hours} hours passed unpaid`,
      requestKey: `grace-${key}`,
      source: `${SOURCE_NAMES[record.event.source]} ${record.event.sourceType} ${record.event.sourceEventId}`,
    };
    const outcome = await this.refusalAsOutcome(async () => {
      const { job } = await this.deps.lifecycle.suspend(slug, who, ask);
      await this.deps.store.setSuspendedForNonPayment(slug, true);
      return `suspension asked (job ${job.jobId})`;
    });
    return outcome;
  }

  private async applyTo(slug: string, terms: TenantTerms, event: EntitlementsEvent, key: string): Promise<string> {
    const truth = await this.truthOf(slug);
    if (isTenantStatus(terms.status) && RETIRING.has(terms.status)) return recordedOnly(slug, terms.status, truth);
    const paid = entitlementsOf(truth, terms, this.deps.catalogue);
    const details = {
      features: paid.flags,
      limits: paid.limits,
      billing: {
        source: event.source,
        state: paid.state ?? 'unknown',
        planId: paid.planId,
        payment: truth.payment?.value ?? 'unknown',
        eventKey: key,
      },
    };
    const who = billingIdentity(event.source);
    const source = `${SOURCE_NAMES[event.source]} ${event.sourceType} ${event.sourceEventId}`;
    const applied = await this.refusalAsOutcome(async () => {
      const { job } = await this.deps.lifecycle.syncEntitlements(slug, who, {
        reason: `billing says: ${event.sourceType}`,
        requestKey: key,
        source,
        details,
      });
      return `entitlements job ${job.jobId}`;
    });
    const payment = await this.followPayment(slug, terms, event, key);
    return payment ? `${applied}; ${payment}` : applied;
  }

  /** A failed payment starts the grace period; a paid one reactivates a tenant billing suspended. */
  private async followPayment(slug: string, terms: TenantTerms, event: EntitlementsEvent, key: string): Promise<string | undefined> {
    if (event.payment === 'failed') {
      await this.deps.followUps.scheduleGraceEnd(key, this.deps.paymentGraceMs);
      return 'grace period started';
    }
    if (event.payment !== 'paid' || terms.status !== 'suspended' || !(await this.deps.store.suspendedForNonPayment(slug))) return undefined;
    const who = billingIdentity(event.source);
    const source = `${SOURCE_NAMES[event.source]} ${event.sourceType} ${event.sourceEventId}`;
    return this.refusalAsOutcome(async () => {
      const { job } = await this.deps.lifecycle.reactivate(slug, who, { reason: 'the unpaid invoice is paid', requestKey: `paid-${key}`, source });
      await this.deps.store.setSuspendedForNonPayment(slug, false);
      return `reactivation asked (job ${job.jobId})`;
    });
  }

  /**
   * A refusal (the tenant is decommissioned, still provisioning…) is an answer, kept in the inbox;
   * a tenant busy with another job is not: the follow-up is retried later.
   */
  private async refusalAsOutcome(act: () => Promise<string>): Promise<string> {
    try {
      return await act();
    } catch (err) {
      if (err instanceof ActionRefusedError && !(err instanceof TenantBusyError)) return `not applied: ${err.message}`;
      throw err;
    }
  }

  private async unknownTenant(event: EntitlementsEvent): Promise<string> {
    const named = event.tenant.slug ?? `customer ${event.tenant.customerId}`;
    let why = `provisioning unknown tenants from ${SOURCE_NAMES[event.source]} is off (BILLING_PROVISION_UNKNOWN_TENANTS)`;
    if (this.deps.provisionUnknownFrom.has(event.source)) {
      const tried = await this.provisionFrom(event);
      if (tried.provisioned !== undefined) return tried.provisioned;
      why = tried.why;
    }
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

  /**
   * Provisioning from a billing event, when configured for its source: only with the business
   * facts an AE would give (tenant code as slug, company, a contact, a plan we sell); otherwise why not.
   */
  private async provisionFrom(
    event: EntitlementsEvent,
  ): Promise<{ provisioned: string; why?: undefined } | { provisioned?: undefined; why: string }> {
    const { company, adminEmail, plan } = event.facts;
    const slug = event.tenant.slug;
    if (slug === undefined || company === undefined || adminEmail === undefined || plan === undefined) {
      return {
        why: `${SOURCE_NAMES[event.source]} ${event.sourceType} does not carry the deal's business facts (tenant code, company, contact, plan); provision it with /provision`,
      };
    }
    const who: Identity = { ...billingIdentity(event.source), roles: new Set(['requester']) };
    const intake = {
      companyName: company,
      slug,
      adminEmail,
      plan,
      contractStartDate: this.deps.today(),
      contractValue: 0,
      featureOverrides: {},
      crmOpportunityId: `${event.source}-${slug}`,
    };
    try {
      const { job } = await this.deps.provision(intake, who);
      return { provisioned: `provisioning ${slug} (job ${job.jobId})` };
    } catch (err) {
      if (err instanceof InvalidInputError || err instanceof ActionRefusedError) return { why: `provisioning it was refused: ${err.message}` };
      throw err;
    }
  }

  private async slugOf(event: EntitlementsEvent): Promise<string | undefined> {
    if (event.tenant.slug !== undefined) return event.tenant.slug;
    return this.deps.store.tenantOfCustomer(event.source, event.tenant.customerId);
  }
}
