/**
 * The billing inbox on MongoDB (FerretDB locally): `billing_events`, keyed by
 * "<source>:<provider event id>" so the unique key decides between concurrent
 * deliveries (the one arbiter FerretDB has), and `billing_customers`, which
 * billing customer is which tenant. Reads `tenants`, which MongoJobStore writes.
 */
import { MongoServerError, type Collection, type Db } from 'mongodb';
import { z } from 'zod';
import { EntitlementsEventSchema, type BillingSource, type EntitlementsEvent } from '../domain/entitlements.ts';
import type { BillingStore, DriftDecision, InboxRecord, KnownTenant } from '../ports/billing-store.ts';

type InboxDoc = {
  _id: string;
  slug: string | null;
  /** "<source>:<customer id>", so events that named only the customer are found once it is known. */
  customer: string | null;
  event: EntitlementsEvent;
  receivedAt: Date;
  handled?: { at: Date; outcome: string };
};
type CustomerDoc = { _id: string; slug: string; at: Date };
type TenantDoc = { _id: string; jobId: string; status: string; companyName: string };

const InboxDocSchema = z.object({
  _id: z.string(),
  slug: z.string().nullable(),
  customer: z.string().nullable().optional(),
  event: EntitlementsEventSchema,
  receivedAt: z.date(),
  handled: z.object({ at: z.date(), outcome: z.string() }).optional(),
});

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === 11000;

export class MongoBillingStore implements BillingStore {
  private readonly inbox: Collection<InboxDoc>;
  private readonly customers: Collection<CustomerDoc>;
  private readonly tenants: Collection<TenantDoc>;
  private readonly standing: Collection<{ _id: string; suspendedForNonPayment: boolean; at: Date }>;
  private readonly drift: Collection<Omit<DriftDecision, 'slug'> & { _id: string }>;

  constructor(db: Db) {
    this.inbox = db.collection('billing_events');
    this.customers = db.collection('billing_customers');
    this.tenants = db.collection('tenants');
    this.standing = db.collection('billing_standing');
    this.drift = db.collection('billing_drift');
  }

  async tenantSlugs(): Promise<string[]> {
    const docs = await this.tenants.find({ status: { $in: ['live', 'suspended'] } }, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => d._id).sort();
  }

  async driftDecision(slug: string): Promise<DriftDecision | undefined> {
    const doc = await this.drift.findOne({ _id: slug });
    if (!doc) return undefined;
    const { _id, ...rest } = doc;
    return { slug: _id, ...rest };
  }

  async saveDriftDecision(decision: DriftDecision): Promise<void> {
    const { slug, ...rest } = decision;
    await this.drift.replaceOne({ _id: slug }, rest, { upsert: true }).catch((err: unknown) => {
      if (!isDuplicate(err)) throw err;
    });
  }

  async ensureBillingIndexes(): Promise<void> {
    await this.inbox.createIndex({ slug: 1 });
    await this.inbox.createIndex({ customer: 1 });
    await this.customers.createIndex({ slug: 1 });
  }

  async recordBillingEvent(record: InboxRecord): Promise<'recorded' | 'duplicate'> {
    try {
      const { customerId } = record.event.tenant;
      const customer = customerId === undefined ? null : `${record.event.source}:${customerId}`;
      await this.inbox.insertOne({ _id: record.key, slug: record.slug ?? null, customer, event: record.event, receivedAt: record.receivedAt });
      return 'recorded';
    } catch (err) {
      if (isDuplicate(err)) return 'duplicate';
      throw err;
    }
  }

  async billingEvent(key: string): Promise<InboxRecord | null> {
    const parsed = InboxDocSchema.safeParse(await this.inbox.findOne({ _id: key }));
    if (!parsed.success) return null;
    const { _id, slug, customer: _customer, ...rest } = parsed.data;
    return { key: _id, slug: slug ?? undefined, ...rest };
  }

  async billingEventsOf(slug: string): Promise<EntitlementsEvent[]> {
    const customers = (await this.customers.find({ slug }).toArray()).map((c) => c._id);
    const docs = await this.inbox.find(customers.length > 0 ? { $or: [{ slug }, { customer: { $in: customers } }] } : { slug }).toArray();
    return docs.flatMap((doc) => {
      const parsed = EntitlementsEventSchema.safeParse(doc.event);
      return parsed.success ? [parsed.data] : [];
    });
  }

  async markBillingEventHandled(key: string, outcome: string): Promise<void> {
    await this.inbox.updateOne({ _id: key, handled: { $exists: false } }, { $set: { handled: { at: new Date(), outcome } } });
  }

  async tenantOfCustomer(source: BillingSource, customerId: string): Promise<string | undefined> {
    return (await this.customers.findOne({ _id: `${source}:${customerId}` }))?.slug;
  }

  async rememberCustomer(source: BillingSource, customerId: string, slug: string): Promise<void> {
    await this.customers.updateOne({ _id: `${source}:${customerId}` }, { $set: { slug, at: new Date() } }, { upsert: true }).catch((err: unknown) => {
      // Two first sightings at once: the other insert won with the same answer.
      if (!isDuplicate(err)) throw err;
    });
  }

  async suspendedForNonPayment(slug: string): Promise<boolean> {
    return (await this.standing.findOne({ _id: slug }))?.suspendedForNonPayment === true;
  }

  async setSuspendedForNonPayment(slug: string, suspended: boolean): Promise<void> {
    await this.standing
      .updateOne({ _id: slug }, { $set: { suspendedForNonPayment: suspended, at: new Date() } }, { upsert: true })
      .catch((err: unknown) => {
        if (!isDuplicate(err)) throw err;
      });
  }

  async tenant(slug: string): Promise<KnownTenant | undefined> {
    const doc = await this.tenants.findOne({ _id: slug });
    return doc ? { slug: doc._id, jobId: doc.jobId, status: doc.status, companyName: doc.companyName } : undefined;
  }
}
