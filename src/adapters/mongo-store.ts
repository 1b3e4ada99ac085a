/**
 * The store on MongoDB (FerretDB locally). Queries stay inside what both
 * support: no transactions, no TTL, no projection on findOneAndUpdate, keys
 * without "." or a leading "$" (everything is redacted, which also makes
 * keys safe, before it is written).
 */
import {
  MongoServerError,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Filter,
  type OptionalUnlessRequiredId,
  type UpdateFilter,
} from 'mongodb';
import { z } from 'zod';
import type { AuditEntry } from '../domain/audit.ts';
import { InsertBatches } from './insert-batches.ts';
import { EVENT_TYPES } from '../domain/events.ts';
import { parseJobDefinition } from '../domain/job-definition.ts';
import type { JobView } from '../domain/job-view.ts';
import { summaryOf, type JobSummary } from '../domain/job-summary.ts';
import { freesTenant, isJobStatus, releasesSlug, type JobStatus } from '../domain/job.ts';
import { redact } from '../domain/redact.ts';
import type { LifecycleKind } from '../domain/job-kind.ts';
import { isTenantStatus, statusFromProvisioning } from '../domain/tenant-status.ts';
import type {
  JobRecord,
  JobStore,
  StatusLinkRecord,
  StatusLinkStore,
  TenantClaim,
  TenantMoveStamp,
  TenantPlace,
  TenantRecord,
  TenantReservation,
  TenantStatusChange,
} from '../ports/store.ts';

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
  /** Copied out of the view so the jobs list can be read without reading every view. */
  planId?: string;
  requestedBy?: string;
  progress?: { done: number; total: number };
  createdAt: Date;
  updatedAt: Date;
};
/**
 * `status` is the provisioning job's status (it decides who may take the slug); `lifecycle`, once a
 * lifecycle step moved the tenant, is where it stands since.
 */
type TenantDoc = {
  _id: string;
  jobId: string;
  companyName: string;
  status: string;
  updatedAt: Date;
  lifecycle?: { status: string; previous?: string; planId?: string; reservedUntil?: number; by: TenantMoveStamp; at: Date };
};
/** The lifecycle job changing a tenant: `_id` is the slug, so one at a time. */
type ClaimDoc = { _id: string; jobId: string; kind: LifecycleKind; at: Date };
type AuditDoc = Omit<AuditEntry, 'id'> & { _id: string };
/** Who took over a released slug from the job that held it: `_id` is "<slug>@<that job>". */
type HandoverDoc = { _id: string; jobId: string; at: Date };

const DUPLICATE_KEY = 11000;
/** Far longer than reserving a slug and storing its job ever take, even on a slow store. */
const ABANDONED_RESERVATION_MS = 60_000;

/** How many commands a batch of updates to one collection is split into, sent at once: see updateInLanes. */
const UPDATE_LANES = 4;

/**
 * Updates of documents picked by _id (each filter matches one at most), as a few commands sent at once;
 * returns how many matched. FerretDB runs a command's updates one after another, each reading through the
 * collection, so a few at once let PostgreSQL use more than one core (on MongoDB one command would do).
 * Written as updateMany: FerretDB 1.24 keeps the PostgreSQL connection of every updateOne of a command
 * open until the whole command is done (handler/msg_update.go closes its reads with a defer inside the
 * loop), so a command of more updates than its pool has connections (50 by default) waits for itself for good, and
 * every other client with it. An updateMany reads its match to the end, which lets the connection go at once.
 */
async function updateInLanes<T extends { _id: string }>(
  collection: Collection<T>,
  updates: readonly { filter: Filter<T>; update: UpdateFilter<T> }[],
): Promise<number> {
  const size = Math.ceil(updates.length / UPDATE_LANES);
  const lanes = Array.from({ length: Math.ceil(updates.length / size) }, (_, i) => updates.slice(i * size, (i + 1) * size));
  const results = await Promise.all(
    lanes.map((lane) =>
      collection.bulkWrite(
        lane.map((u): AnyBulkWriteOperation<T> => ({ updateMany: u })),
        { ordered: false },
      ),
    ),
  );
  return results.reduce((matched, r) => matched + r.matchedCount, 0);
}

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

/** Inserts `doc` unless its key is taken: the unique index is the one arbiter FerretDB has between concurrent writers. */
async function insertedNew<T extends { _id: string }>(collection: Collection<T>, doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
  try {
    await collection.insertOne(doc);
    return true;
  } catch (err) {
    if (isDuplicate(err)) return false;
    throw err;
  }
}

export class MongoJobStore implements JobStore, StatusLinkStore {
  private readonly jobs: Collection<JobDoc>;
  private readonly tenants: Collection<TenantDoc>;
  private readonly audits: Collection<AuditDoc>;
  private readonly handovers: Collection<HandoverDoc>;
  private readonly statusLinks: Collection<StatusLinkRecord>;
  private readonly claims: Collection<ClaimDoc>;
  /** New jobs and slug reservations: the two inserts of every submission, batched when they come together. */
  private readonly newJobs: InsertBatches<JobDoc>;
  private readonly newTenants: InsertBatches<TenantDoc>;

  /** How long a slug may stay reserved for a job that was never stored before someone else may take it. */
  private readonly abandonedAfterMs: number;

  constructor(db: Db, opts: { abandonedReservationMs?: number } = {}) {
    this.abandonedAfterMs = opts.abandonedReservationMs ?? ABANDONED_RESERVATION_MS;
    this.jobs = db.collection<JobDoc>('jobs');
    this.tenants = db.collection<TenantDoc>('tenants');
    this.audits = db.collection<AuditDoc>('audit');
    this.handovers = db.collection<HandoverDoc>('tenant_handovers');
    this.statusLinks = db.collection<StatusLinkRecord>('status_links');
    this.claims = db.collection<ClaimDoc>('tenant_claims');
    this.newJobs = new InsertBatches(this.jobs);
    this.newTenants = new InsertBatches(this.tenants);
  }

  async ensureIndexes(): Promise<void> {
    await this.jobs.createIndex({ crmOpportunityId: 1 }, { unique: true });
    await this.jobs.createIndex({ tenantSlug: 1, createdAt: -1 });
    await this.jobs.createIndex({ companyKey: 1, createdAt: -1 });
    await this.jobs.createIndex({ status: 1, updatedAt: -1 });
    // With _id last, as the trails are sorted: MongoDB then reads a page of a trail straight off the index.
    await this.audits.createIndex({ jobId: 1, at: 1, _id: 1 });
    await this.audits.createIndex({ tenantSlug: 1, at: 1, _id: 1 });
    await this.audits.createIndex({ companyName: 1, at: 1 });
    await this.statusLinks.createIndex({ jobId: 1 });
  }

  async saveStatusLink(link: StatusLinkRecord): Promise<void> {
    await this.statusLinks.insertOne(link);
  }

  async statusLink(linkId: string): Promise<StatusLinkRecord | null> {
    return storable(linkId) ? this.statusLinks.findOne({ _id: linkId }) : null;
  }

  async statusLinksOf(jobId: string): Promise<StatusLinkRecord[]> {
    return storable(jobId) ? this.statusLinks.find({ jobId }).toArray() : [];
  }

  async revokeStatusLinks(jobId: string, at: Date): Promise<number> {
    // One writer per link is enough here: withdrawing twice withdraws all the same.
    const live = await this.statusLinks.find({ jobId }).toArray();
    const open = live.filter((l) => !l.revokedAt);
    await Promise.all(open.map((l) => this.statusLinks.updateOne({ _id: l._id }, { $set: { revokedAt: at } })));
    return open.length;
  }

  async reserveTenant(t: { slug: string; jobId: string; companyName: string }): Promise<TenantReservation> {
    const doc: TenantDoc = { _id: t.slug, jobId: t.jobId, companyName: t.companyName, status: 'running', updatedAt: new Date() };
    if ((await this.newTenants.insert(doc)) === 'inserted') return { ok: true };
    const held = await this.tenants.findOne({ _id: t.slug });
    if (!held) return this.reserveTenant(t); // released between our insert and our read: try again
    if (held.jobId === t.jobId) return { ok: true };
    // A tenant that went live belongs to its lifecycle now: only a decommissioned one whose reservation ran out lets go.
    if (held.lifecycle) {
      const { status, reservedUntil = 0 } = held.lifecycle;
      if (status === 'decommissioned' && reservedUntil <= Date.now()) return this.takeOver(held._id, held.jobId, doc);
      const until = status === 'decommissioned' ? `, the slug is reserved until ${new Date(reservedUntil).toISOString().slice(0, 10)}` : '';
      return { ok: false, jobId: held.jobId, status: `${status}${until}` };
    }
    if (!(isJobStatus(held.status) && releasesSlug(held.status)) && !(await this.abandoned(held.jobId, held.updatedAt))) {
      return { ok: false, jobId: held.jobId, status: held.status };
    }
    return this.takeOver(held._id, held.jobId, doc);
  }

  /**
   * A process that died between reserving a slug and storing its job leaves a
   * reservation no job will ever release. Once it is older than any real
   * submission takes, and still has no stored job, the slug is free again.
   */
  private async abandoned(jobId: string, since: Date): Promise<boolean> {
    if (Date.now() - since.getTime() < this.abandonedAfterMs) return false;
    return (await this.jobs.countDocuments({ _id: jobId }, { limit: 1 })) === 0;
  }

  /**
   * The earlier tenant was rolled back, rejected or cancelled: the slug goes to
   * exactly one successor, the one whose claim on that holding is inserted
   * first. A conditional update cannot decide this on FerretDB, where two
   * concurrent ones can both match.
   */
  private async takeOver(slug: string, predecessor: string, doc: TenantDoc): Promise<TenantReservation> {
    const claim: HandoverDoc = { _id: `${slug}@${predecessor}`, jobId: doc.jobId, at: doc.updatedAt };
    if (!(await insertedNew(this.handovers, claim))) {
      const winner = await this.handovers.findOne({ _id: claim._id });
      if (winner && winner.jobId !== doc.jobId) {
        // The winner may have died before storing its job: then it is the predecessor to take over from.
        if (await this.abandoned(winner.jobId, winner.at)) return this.takeOver(slug, winner.jobId, doc);
        return { ok: false, jobId: winner.jobId, status: 'running' };
      }
    }
    // Only the claim's winner writes the holding, so the replacement needs no condition.
    await this.tenants.replaceOne({ _id: doc._id }, doc);
    return { ok: true };
  }

  async releaseTenant(slug: string, jobId: string): Promise<void> {
    // No one else writes this holding meanwhile: it is 'running' (so not handed over) for a job that has no events.
    await this.tenants.deleteOne({ _id: slug, jobId });
  }

  /** One round trip for the statuses, and one for the claims their jobs let go of (if any did). */
  async setTenantStatuses(changes: readonly TenantStatusChange[]): Promise<void> {
    if (changes.length === 0) return;
    const updatedAt = new Date();
    await updateInLanes(
      this.tenants,
      changes.map(({ slug, jobId, status }) => ({ filter: { _id: slug, jobId }, update: { $set: { status, updatedAt } } })),
    );
    // Only a lifecycle job holds a claim; one that is done (or stopped for good) lets the next one in.
    const freed = changes.filter((c) => freesTenant(c.status));
    if (freed.length > 0) {
      await this.claims.bulkWrite(
        freed.map(({ slug, jobId }) => ({ deleteOne: { filter: { _id: slug, jobId } } })),
        { ordered: false },
      );
    }
  }

  async tenant(slug: string): Promise<TenantRecord | null> {
    if (!storable(slug)) return null;
    const doc = await this.tenants.findOne({ _id: slug });
    return doc ? tenantRecordOf(doc) : null;
  }

  async moveTenant(slug: string, to: TenantPlace, by: TenantMoveStamp): Promise<void> {
    // One lifecycle job at a time holds the tenant (claimTenant), so this write has no competitor.
    await this.tenants.updateOne({ _id: slug }, { $set: { lifecycle: { ...to, by, at: new Date() }, updatedAt: new Date() } });
  }

  async claimTenant(slug: string, jobId: string, kind: LifecycleKind): Promise<TenantClaim> {
    for (let round = 0; round < 5; round++) {
      if (await insertedNew(this.claims, { _id: slug, jobId, kind, at: new Date() })) return { ok: true };
      const held = await this.claims.findOne({ _id: slug });
      if (!held) continue; // let go between our insert and our read
      if (held.jobId === jobId) return { ok: true };
      if (!(await this.claimOver(held))) return { ok: false, jobId: held.jobId, kind: held.kind };
      // Only the holder's own claim is removed: of two takers, the first insert after it wins.
      await this.claims.deleteOne({ _id: slug, jobId: held.jobId });
    }
    throw new Error(`the lifecycle claim on ${slug} keeps changing hands; try again`);
  }

  async releaseClaim(slug: string, jobId: string): Promise<void> {
    await this.claims.deleteOne({ _id: slug, jobId });
  }

  /** A claim whose job was never stored (its process died in between) or has finished no longer holds the tenant. */
  private async claimOver(claim: ClaimDoc): Promise<boolean> {
    const job = await this.jobs.findOne({ _id: claim.jobId }, { projection: { status: 1 } });
    if (!job) return this.abandoned(claim.jobId, claim.at);
    return isJobStatus(job.status) && freesTenant(job.status);
  }

  async createJob(record: JobRecord): Promise<'created' | 'exists'> {
    return (await this.newJobs.insert(jobDocOf(record))) === 'inserted' ? 'created' : 'exists';
  }

  /**
   * The filter holds back an older view only where the store applies it
   * atomically (MongoDB) or nobody else writes meanwhile: FerretDB reads,
   * then writes, so the engine writes one job's view at a time
   * (engine/view-sync.ts). Equal seq rewrites: a poll's outputs change the
   * view without moving it. One round trip for the batch; when not every
   * view was saved (a newer one stored, or no such job), a second one reads
   * back which were: nobody else writes these jobs meanwhile.
   */
  async saveViews(views: readonly JobView[]): Promise<ReadonlySet<string>> {
    if (views.length === 0) return new Set();
    const updatedAt = new Date();
    const matched = await updateInLanes(
      this.jobs,
      views.map((view) => ({
        filter: { _id: view.jobId, seq: { $lte: view.seq } },
        update: { $set: { view: redact(view), seq: view.seq, status: view.status, ...listFields(view), updatedAt } },
      })),
    );
    if (matched === views.length) return new Set(views.map((v) => v.jobId));
    const stored = await this.jobs.find({ _id: { $in: views.map((v) => v.jobId) } }, { projection: { seq: 1 } }).toArray();
    const seqs = new Map(stored.map((doc) => [doc._id, doc.seq]));
    return new Set(views.filter((v) => seqs.get(v.jobId) === v.seq).map((v) => v.jobId));
  }

  /** Every job in one line each, without reading their views (older jobs, stored before the list fields, excepted). */
  async jobSummaries(): Promise<JobSummary[]> {
    const docs = await this.jobs.find({}, { projection: { definitionJson: 0, view: 0 } }).toArray();
    const summaries = await Promise.all(
      docs.map(async (doc): Promise<JobSummary | undefined> => {
        if (doc.planId !== undefined && doc.requestedBy !== undefined && doc.progress !== undefined && isJobStatus(doc.status)) {
          return {
            jobId: doc._id,
            status: doc.status,
            slug: doc.tenantSlug,
            companyName: doc.companyName,
            planId: doc.planId,
            requestedBy: doc.requestedBy,
            crmOpportunityId: doc.crmOpportunityId,
            createdAt: doc.createdAt,
            updatedAt: doc.updatedAt,
            progress: doc.progress,
          };
        }
        const full = await this.getJob(doc._id);
        return full ? summaryOf(full.view, full.createdAt, full.updatedAt) : undefined;
      }),
    );
    return summaries.filter((s) => s !== undefined);
  }

  async getJob(jobId: string): Promise<JobRecord | null> {
    if (!storable(jobId)) return null;
    const doc = await this.jobs.findOne({ _id: jobId });
    return doc ? toRecord(doc) : null;
  }

  async findByOpportunity(crmOpportunityId: string): Promise<JobRecord | null> {
    if (!storable(crmOpportunityId)) return null;
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
    if (s !== undefined && !storable(s)) return [];
    const filters: Filter<JobDoc>[] =
      s !== undefined
        ? [{ tenantSlug: s }, { companyKey: s.toLowerCase() }, { _id: s }].map((f) => (statuses ? { ...f, status: { $in: statuses } } : f))
        : (statuses?.map((status) => ({ status })) ?? [{}]);
    const found = await Promise.all(filters.map((f) => this.jobs.find(f).sort({ createdAt: -1 }).limit(query.limit).toArray()));
    const unique = new Map(found.flat().map((doc) => [doc._id, doc]));
    const newestFirst = [...unique.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return newestFirst.slice(0, query.limit).map(toRecord);
  }

  async countByStatus(): Promise<Record<string, number>> {
    const groups = await this.jobs.aggregate<{ _id: unknown; count: unknown }>([{ $group: { _id: '$status', count: { $sum: 1 } } }]).toArray();
    const out: Record<string, number> = {};
    for (const g of groups) if (typeof g._id === 'string' && typeof g.count === 'number') out[g._id] = g.count;
    return out;
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

  /** One query, newest first on the tenant's index; handed back oldest first. */
  async tenantAudit(query: { slug: string; limit: number }): Promise<AuditEntry[]> {
    if (!storable(query.slug)) return [];
    const newestFirst = await this.audits.find({ tenantSlug: query.slug }).sort({ at: -1, _id: -1 }).limit(query.limit).toArray();
    return auditEntriesOf(newestFirst.reverse());
  }

  /** One equality query per job (see findJobs), merged in time order. */
  async audit(query: { jobIds: readonly string[]; limit: number }): Promise<AuditEntry[]> {
    const perJob = await Promise.all(query.jobIds.map((jobId) => this.audits.find({ jobId }).sort({ at: 1, _id: 1 }).limit(query.limit).toArray()));
    const docs = perJob
      .flat()
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0))
      .slice(0, query.limit);
    return auditEntriesOf(docs);
  }
}

function tenantRecordOf(doc: TenantDoc): TenantRecord {
  const moved = doc.lifecycle;
  const status = moved && isTenantStatus(moved.status) ? moved.status : statusFromProvisioning(isJobStatus(doc.status) ? doc.status : 'running');
  const previous = moved?.previous !== undefined && isTenantStatus(moved.previous) ? moved.previous : undefined;
  return {
    slug: doc._id,
    jobId: doc.jobId,
    companyName: doc.companyName,
    status,
    ...(previous ? { previous } : {}),
    ...(moved?.planId ? { planId: moved.planId } : {}),
    ...(moved?.reservedUntil !== undefined ? { reservedUntil: moved.reservedUntil } : {}),
    ...(moved ? { movedBy: moved.by } : {}),
  };
}

/** Stored entries that read back as audit entries (one that does not is left out, not fatal). */
function auditEntriesOf(docs: readonly unknown[]): AuditEntry[] {
  return docs.flatMap((doc) => {
    const parsed = AuditDocSchema.safeParse(doc);
    if (!parsed.success) return [];
    const { _id, ...rest } = parsed.data;
    return [{ id: _id, ...rest }];
  });
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

/** A job as stored: redacted, with the fields its lookups and the jobs list read copied out (the benchmark seeds these too). */
export function jobDocOf(record: JobRecord): JobDoc {
  const { definition, view } = record;
  return {
    _id: definition.jobId,
    definitionJson: JSON.stringify(redact(definition)),
    view: redact(view),
    seq: view.seq,
    status: view.status,
    tenantSlug: definition.tenant.slug,
    companyName: definition.tenant.companyName,
    companyKey: definition.tenant.companyName.toLowerCase(),
    crmOpportunityId: opportunityKey(definition),
    ...listFields(view),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/**
 * The unique index keeps one provisioning job per CRM opportunity; a lifecycle job of the same
 * tenant carries the opportunity too, so it is stored under a key of its own that no deal can be.
 */
function opportunityKey(definition: JobRecord['definition']): string {
  const opportunity = definition.intake.crmOpportunityId;
  return definition.request ? `${opportunity}/${definition.jobId}` : opportunity;
}

/** What the jobs list shows of a job, kept beside its view. */
function listFields(view: JobView): Pick<JobDoc, 'planId' | 'requestedBy' | 'progress'> {
  return { planId: view.tenant.planId, requestedBy: view.requestedBy, progress: view.progress };
}

/**
 * Text a stored value could equal. Nothing we store holds a NUL (the intake
 * refuses control characters), and PostgreSQL, under the local store, refuses
 * a query that holds one — so such a lookup finds nothing, without asking.
 */
function storable(text: string): boolean {
  return !text.includes('\u0000');
}
