/**
 * The store on MongoDB (FerretDB locally). Queries stay inside what both
 * support: no transactions, no TTL, no projection on findOneAndUpdate, keys
 * without "." or a leading "$" (everything is redacted, which also makes
 * keys safe, before it is written).
 */
import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import { z } from 'zod';
import type { AuditEntry } from '../domain/audit.ts';
import { EVENT_TYPES } from '../domain/events.ts';
import { parseJobDefinition } from '../domain/job-definition.ts';
import type { JobView } from '../domain/job-view.ts';
import { isJobStatus, releasesSlug, type JobStatus } from '../domain/job.ts';
import { redact } from '../domain/redact.ts';
import type { JobRecord, JobStore, TenantReservation } from '../ports/store.ts';

type JobDoc = {
  _id: string;
  definitionJson: string;
  view: unknown;
  seq: number;
  status: string;
  tenantSlug: string;
  companyName: string;
  companyKey: string;
  crmOpportunityId: string;
  createdAt: Date;
  updatedAt: Date;
};
type TenantDoc = { _id: string; jobId: string; companyName: string; status: string; updatedAt: Date };
type AuditDoc = Omit<AuditEntry, 'id'> & { _id: string };

const DUPLICATE_KEY = 11000;

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

export class MongoJobStore implements JobStore {
  private readonly jobs: Collection<JobDoc>;
  private readonly tenants: Collection<TenantDoc>;
  private readonly audits: Collection<AuditDoc>;

  constructor(db: Db) {
    this.jobs = db.collection<JobDoc>('jobs');
    this.tenants = db.collection<TenantDoc>('tenants');
    this.audits = db.collection<AuditDoc>('audit');
  }

  async ensureIndexes(): Promise<void> {
    await this.jobs.createIndex({ crmOpportunityId: 1 }, { unique: true });
    await this.jobs.createIndex({ tenantSlug: 1, createdAt: -1 });
    await this.jobs.createIndex({ companyKey: 1, createdAt: -1 });
    await this.jobs.createIndex({ status: 1, updatedAt: -1 });
    await this.audits.createIndex({ jobId: 1, at: 1 });
    await this.audits.createIndex({ tenantSlug: 1, at: 1 });
    await this.audits.createIndex({ companyName: 1, at: 1 });
  }

  async reserveTenant(t: { slug: string; jobId: string; companyName: string }): Promise<TenantReservation> {
    const doc: TenantDoc = { _id: t.slug, jobId: t.jobId, companyName: t.companyName, status: 'running', updatedAt: new Date() };
    try {
      await this.tenants.insertOne(doc);
      return { ok: true };
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
    const held = await this.tenants.findOne({ _id: t.slug });
    if (!held || held.jobId === t.jobId) return { ok: true };
    if (!isJobStatus(held.status) || !releasesSlug(held.status)) return { ok: false, jobId: held.jobId, status: held.status };
    // The earlier tenant was rolled back, rejected or cancelled: hand the slug over.
    const taken = await this.tenants.updateOne({ _id: t.slug, jobId: held.jobId }, { $set: doc });
    return taken.modifiedCount === 1 ? { ok: true } : this.reserveTenant(t);
  }

  async setTenantStatus(slug: string, jobId: string, status: JobStatus): Promise<void> {
    await this.tenants.updateOne({ _id: slug, jobId }, { $set: { status, updatedAt: new Date() } });
  }

  async createJob(record: JobRecord): Promise<'created' | 'exists'> {
    const { definition, view } = record;
    try {
      await this.jobs.insertOne({
        _id: definition.jobId,
        definitionJson: JSON.stringify(redact(definition)),
        view: redact(view),
        seq: view.seq,
        status: view.status,
        tenantSlug: definition.tenant.slug,
        companyName: definition.tenant.companyName,
        companyKey: definition.tenant.companyName.toLowerCase(),
        crmOpportunityId: definition.intake.crmOpportunityId,
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
      });
      return 'created';
    } catch (err) {
      if (isDuplicate(err)) return 'exists';
      throw err;
    }
  }

  /**
   * The filter holds back an older view only where the store applies it
   * atomically (MongoDB) or nobody else writes meanwhile: FerretDB reads,
   * then writes, so the engine writes one job's view at a time
   * (engine/view-sync.ts). Equal seq rewrites: a poll's outputs change the
   * view without moving it.
   */
  async saveView(view: JobView): Promise<boolean> {
    const saved = await this.jobs.updateOne(
      { _id: view.jobId, seq: { $lte: view.seq } },
      { $set: { view: redact(view), seq: view.seq, status: view.status, updatedAt: new Date() } },
    );
    return saved.matchedCount === 1;
  }

  async getJob(jobId: string): Promise<JobRecord | null> {
    const doc = await this.jobs.findOne({ _id: jobId });
    return doc ? toRecord(doc) : null;
  }

  async findByOpportunity(crmOpportunityId: string): Promise<JobRecord | null> {
    const doc = await this.jobs.findOne({ crmOpportunityId });
    return doc ? toRecord(doc) : null;
  }

  /**
   * A few equality queries merged here rather than one with $or / $in: FerretDB hands `field = value`
   * to PostgreSQL but filters $or and $in itself after reading every document (on MongoDB each of
   * these uses its index).
   */
  async findJobs(query: { search?: string; statuses?: readonly JobStatus[]; limit: number }): Promise<JobRecord[]> {
    const statuses = query.statuses ? [...query.statuses] : undefined;
    const s = query.search?.trim();
    const filters: Filter<JobDoc>[] =
      s !== undefined
        ? [{ tenantSlug: s }, { companyKey: s.toLowerCase() }, { _id: s }].map((f) => (statuses ? { ...f, status: { $in: statuses } } : f))
        : (statuses?.map((status) => ({ status })) ?? [{}]);
    const found = await Promise.all(filters.map((f) => this.jobs.find(f).sort({ createdAt: -1 }).limit(query.limit).toArray()));
    const unique = new Map(found.flat().map((doc) => [doc._id, doc]));
    const newestFirst = [...unique.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return newestFirst.slice(0, query.limit).map(toRecord);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const docs = entries.map(({ id, ...rest }): AuditDoc => ({ ...rest, _id: id }));
    try {
      await this.audits.insertMany(docs, { ordered: false });
    } catch (err) {
      // Entries already written by an earlier delivery of the same events are fine.
      if (!isDuplicate(err) && !(err instanceof Error && err.message.includes('E11000'))) throw err;
    }
  }

  /** One equality query per job (see findJobs), merged in time order. */
  async audit(query: { jobIds: readonly string[]; limit: number }): Promise<AuditEntry[]> {
    const perJob = await Promise.all(query.jobIds.map((jobId) => this.audits.find({ jobId }).sort({ at: 1, _id: 1 }).limit(query.limit).toArray()));
    const docs = perJob
      .flat()
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0))
      .slice(0, query.limit);
    return docs.flatMap((doc) => {
      const parsed = AuditDocSchema.safeParse(doc);
      if (!parsed.success) return [];
      const { _id, ...rest } = parsed.data;
      return [{ id: _id, ...rest }];
    });
  }
}

const AuditDocSchema = z.object({
  _id: z.string(),
  jobId: z.string(),
  tenantSlug: z.string(),
  companyName: z.string(),
  at: z.date(),
  type: z.enum(EVENT_TYPES),
  actor: z.string(),
  stepId: z.string().optional(),
  summary: z.string(),
  reason: z.string().optional(),
  error: z.string().optional(),
  durationMs: z.number().optional(),
});

const ViewSchema = z.custom<JobView>((value) => value !== null && typeof value === 'object' && 'jobId' in value && 'steps' in value);

function toRecord(doc: JobDoc): JobRecord {
  return {
    definition: parseJobDefinition(doc.definitionJson),
    view: ViewSchema.parse(doc.view),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}
