/**
 * The billing inbox: every billing event kept once, by its provider's event id
 * (a unique key, so concurrent deliveries of one event store it once), and
 * what the provisioner learnt from them (which tenant a billing customer is).
 */
import type { BillingSource, EntitlementsEvent } from '../domain/entitlements.ts';

export type InboxRecord = {
  key: string;
  /** Our tenant, when the event names one we could resolve. */
  slug: string | undefined;
  event: EntitlementsEvent;
  receivedAt: Date;
  /** When its follow-up (apply, report, provision) was done, and what it was. */
  handled?: { at: Date; outcome: string };
};

export type KnownTenant = { slug: string; jobId: string; status: string; companyName: string };

/** What the nightly check did about a tenant's drift: posted it, or someone ignored it (who, why). */
export type DriftDecision = { slug: string; key: string; state: 'posted' | 'ignored' | 'fixed'; at: Date; by?: string; reason?: string };

export interface BillingStore {
  ensureBillingIndexes(): Promise<void>;
  /** 'duplicate' when an event with this key is already stored; nothing is changed then. */
  recordBillingEvent(record: InboxRecord): Promise<'recorded' | 'duplicate'>;
  billingEvent(key: string): Promise<InboxRecord | null>;
  /** Every event stored for the tenant, by slug or by one of its billing customers (any order: billing truth is an order-free fold). */
  billingEventsOf(slug: string): Promise<EntitlementsEvent[]>;
  markBillingEventHandled(key: string, outcome: string): Promise<void>;
  tenantOfCustomer(source: BillingSource, customerId: string): Promise<string | undefined>;
  rememberCustomer(source: BillingSource, customerId: string, slug: string): Promise<void>;
  tenant(slug: string): Promise<KnownTenant | undefined>;
  /** Whether billing asked for the tenant's suspension after an unpaid invoice (so a payment reactivates it). */
  suspendedForNonPayment(slug: string): Promise<boolean>;
  setSuspendedForNonPayment(slug: string, suspended: boolean): Promise<void>;
  /** Tenants that can drift: live or suspended. */
  tenantSlugs(): Promise<string[]>;
  driftDecision(slug: string): Promise<DriftDecision | undefined>;
  saveDriftDecision(decision: DriftDecision): Promise<void>;
}
