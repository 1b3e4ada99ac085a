/**
 * The KPIs' share of the MongoDB store (FerretDB locally): per-job facts in
 * `kpi_facts`, activation events in `activation_events` (the event's id makes
 * its `_id`, so a redelivery is recognised by the unique key, the one arbiter
 * FerretDB has) and each tenant's first use of each workflow in
 * `first_activations` (kept with $min, so events arriving out of order do not
 * matter). It reads `jobs` and `tenants`, which MongoJobStore writes.
 */
import { MongoServerError, type Collection, type Db } from 'mongodb';
import { z } from 'zod';
import type { ActivationEvent, FirstActivation } from '../domain/activation.ts';
import { JOB_KINDS } from '../domain/job-kind.ts';
import { HANDOFF_KINDS, type JobFacts } from '../domain/kpi-facts.ts';
import type { KpiStore } from '../ports/store.ts';

/** Bumped when JobFacts changes meaning: facts of another version are read as missing, so they are worked out again. */
const FACTS_VERSION = 2;

type FactsDoc = Omit<JobFacts, 'jobId'> & { _id: string; factsVersion: number };
type ActivationDoc = { _id: string; tenantSlug: string; eventId: string; workflow: string; at: Date; receivedAt: Date; reportedBy: string };
type FirstActivationDoc = { _id: string; tenantSlug: string; workflow: string; firstAt: Date };

const StepTypeFactsSchema = z.object({
  type: z.string(),
  runs: z.number(),
  failures: z.number(),
  recoveriesMs: z.array(z.number()),
  unrecovered: z.number(),
});

const FactsDocSchema = z.object({
  _id: z.string(),
  factsVersion: z.literal(FACTS_VERSION),
  kind: z.enum(JOB_KINDS),
  seq: z.number(),
  planId: z.string(),
  tenantSlug: z.string(),
  companyName: z.string(),
  requestedAt: z.number(),
  signedAt: z.number(),
  liveAt: z.number().optional(),
  approvalWaitsMs: z.array(z.number()),
  approvalWaitingSince: z.number().optional(),
  handoffs: z.object(Object.fromEntries(HANDOFF_KINDS.map((k) => [k, z.number()]))).transform((h) => ({
    retry: h['retry'] ?? 0,
    override: h['override'] ?? 0,
    rollback: h['rollback'] ?? 0,
    cancel: h['cancel'] ?? 0,
  })),
  steps: z.array(StepTypeFactsSchema),
});

/** A job's facts as stored (the benchmark seeds these too). */
export function kpiFactsDocOf(facts: JobFacts): FactsDoc {
  const { jobId, ...rest } = facts;
  return { _id: jobId, ...rest, factsVersion: FACTS_VERSION };
}

/** A tenant's slug never holds "/", so "<slug>/<anything>" cannot collide between tenants. */
const keyOf = (slug: string, part: string) => `${slug}/${part}`;

export class MongoKpiStore implements KpiStore {
  private readonly jobs: Collection<{ _id: string; seq: number }>;
  private readonly tenants: Collection<{ _id: string }>;
  private readonly facts: Collection<FactsDoc>;
  private readonly activations: Collection<ActivationDoc>;
  private readonly firsts: Collection<FirstActivationDoc>;

  constructor(db: Db) {
    this.jobs = db.collection('jobs');
    this.tenants = db.collection('tenants');
    this.facts = db.collection('kpi_facts');
    this.activations = db.collection('activation_events');
    this.firsts = db.collection('first_activations');
  }

  async ensureKpiIndexes(): Promise<void> {
    await this.activations.createIndex({ tenantSlug: 1, at: 1 });
    await this.firsts.createIndex({ tenantSlug: 1 });
  }

  async jobSeqs(): Promise<Map<string, number>> {
    const docs = await this.jobs.find({}, { projection: { seq: 1 } }).toArray();
    return new Map(docs.map((d) => [d._id, typeof d.seq === 'number' ? d.seq : 0]));
  }

  async kpiFacts(): Promise<JobFacts[]> {
    const docs = await this.facts.find({}).toArray();
    return docs.flatMap((doc) => {
      const parsed = FactsDocSchema.safeParse(doc);
      if (!parsed.success) return [];
      const { _id, factsVersion: _version, ...facts } = parsed.data;
      return [{ jobId: _id, ...facts }];
    });
  }

  async saveKpiFacts(facts: JobFacts): Promise<void> {
    const { _id, ...doc } = kpiFactsDocOf(facts);
    await this.facts.replaceOne({ _id }, doc, { upsert: true });
  }

  async tenantKnown(slug: string): Promise<boolean> {
    if (slug.includes('\u0000')) return false;
    return (await this.tenants.countDocuments({ _id: slug }, { limit: 1 })) > 0;
  }

  async recordActivation(slug: string, event: ActivationEvent, reportedBy: string): Promise<'recorded' | 'duplicate'> {
    const doc: ActivationDoc = {
      _id: keyOf(slug, event.id),
      tenantSlug: slug,
      eventId: event.id,
      workflow: event.workflow,
      at: event.at,
      receivedAt: new Date(),
      reportedBy,
    };
    let outcome: 'recorded' | 'duplicate' = 'recorded';
    try {
      await this.activations.insertOne(doc);
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      outcome = 'duplicate';
    }
    // Also for a duplicate, from what was stored first: a delivery that died between the two writes is completed by the next.
    const stored = outcome === 'recorded' ? doc : await this.activations.findOne({ _id: doc._id });
    if (stored) await this.firstUse(stored);
    return outcome;
  }

  /** Two first uses upserted at once: one inserts, the other's insert fails on the key and it updates instead. */
  private async firstUse(event: ActivationDoc, again = true): Promise<void> {
    try {
      await this.firsts.updateOne(
        { _id: keyOf(event.tenantSlug, event.workflow) },
        { $min: { firstAt: event.at }, $setOnInsert: { tenantSlug: event.tenantSlug, workflow: event.workflow } },
        { upsert: true },
      );
    } catch (err) {
      if (!(again && err instanceof MongoServerError && err.code === 11000)) throw err;
      await this.firstUse(event, false);
    }
  }

  async firstActivations(): Promise<FirstActivation[]> {
    const docs = await this.firsts.find({}).toArray();
    return docs.map((d) => ({ tenantSlug: d.tenantSlug, workflow: d.workflow, firstAt: d.firstAt.getTime() }));
  }
}
