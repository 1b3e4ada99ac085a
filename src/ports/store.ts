/** Where jobs, tenants and the audit trail are kept for good (MongoDB in production). */
import type { ActivationEvent, FirstActivation } from '../domain/activation.ts';
import type { AuditEntry } from '../domain/audit.ts';
import type { PendingIntake } from '../domain/crm-deal.ts';
import type { JobFacts } from '../domain/kpi-facts.ts';
import type { JobDefinition } from '../domain/job-definition.ts';
import type { JobSummary } from '../domain/job-summary.ts';
import type { JobView } from '../domain/job-view.ts';
import type { JobStatus } from '../domain/job.ts';
import type { LifecycleKind } from '../domain/job-kind.ts';
import type { TenantStatus } from '../domain/tenant-status.ts';

export type JobRecord = { definition: JobDefinition; view: JobView; createdAt: Date; updatedAt: Date };

export type TenantReservation = { ok: true } | { ok: false; jobId: string; status: string };

/** A tenant as the store knows it: the job that provisioned it, and where it stands now. */
export type TenantRecord = {
  slug: string;
  /** The job that provisioned it. */
  jobId: string;
  companyName: string;
  status: TenantStatus;
  /** The status it had before decommissioning began (to go back to if cancelled). */
  previous?: TenantStatus;
  /** The plan it is on, once a plan change moved it off the one it was provisioned on. */
  planId?: string;
  /** Once decommissioned: until when (epoch ms) its slug stays reserved. */
  reservedUntil?: number;
  /** The lifecycle step that last moved it: its job and step, and what it moved it from (so it can be undone). */
  movedBy?: TenantMoveStamp;
};

/** Where a lifecycle step leaves a tenant. */
export type TenantPlace = { status: TenantStatus; previous?: TenantStatus; planId?: string; reservedUntil?: number };

export type TenantMoveStamp = { jobId: string; stepId: string; from: TenantPlace };

/** A job's status, for its tenant. */
export type TenantStatusChange = { slug: string; jobId: string; status: JobStatus };

/** One lifecycle job at a time per tenant: who holds it. */
export type TenantClaim = { ok: true } | { ok: false; jobId: string; kind: LifecycleKind };

/** The tenants' statuses, as lifecycle steps read and move them. */
export interface TenantRegistry {
  tenant(slug: string): Promise<TenantRecord | null>;
  /** Records the tenant's new status (and plan), stamped with the step that moved it. */
  moveTenant(slug: string, to: TenantPlace, by: TenantMoveStamp): Promise<void>;
}

export interface JobStore extends TenantRegistry {
  ensureIndexes(): Promise<void>;
  /**
   * Makes this lifecycle job the one changing the tenant, unless another one is (a job still running,
   * waiting or failed). A claim whose job was never stored, or has finished, is taken over.
   */
  claimTenant(slug: string, jobId: string, kind: LifecycleKind): Promise<TenantClaim>;
  /** Lets go of this job's claim (the job is finished; the recorder would have let go a moment later). */
  releaseClaim(slug: string, jobId: string): Promise<void>;
  /** Claims the slug for this job unless a job that is not finished with it holds it. */
  reserveTenant(tenant: { slug: string; jobId: string; companyName: string }): Promise<TenantReservation>;
  /** Gives the slug back from a job that was never stored (its opportunity went to another job first). */
  releaseTenant(slug: string, jobId: string): Promise<void>;
  /**
   * Records each job's status on its tenant: the provisioning status for the job that provisioned it; a finished
   * lifecycle job lets go of its claim. Writes the batch together (a recorder's batch holds many jobs).
   */
  setTenantStatuses(changes: readonly TenantStatusChange[]): Promise<void>;
  /** 'exists' when a job with this id is already stored (the same deal submitted again). */
  createJob(record: JobRecord): Promise<'created' | 'exists'>;
  /**
   * Saves each job's view unless a newer one is stored; returns the ids of the jobs whose view it saved.
   * The engine has one writer per job at a time, so the store need not arbitrate between writers.
   */
  saveViews(views: readonly JobView[]): Promise<ReadonlySet<string>>;
  getJob(jobId: string): Promise<JobRecord | null>;
  /** Every job in one line each (the admin panel's list keeps them in memory). */
  jobSummaries(): Promise<JobSummary[]>;
  findByOpportunity(crmOpportunityId: string): Promise<JobRecord | null>;
  /** Newest first; `search` matches a tenant slug, a company name (any case) or a job id. */
  findJobs(query: { search?: string; statuses?: readonly JobStatus[]; limit: number }): Promise<JobRecord[]>;
  /** How many jobs are stored in each status (for the metrics). */
  countByStatus(): Promise<Record<string, number>>;
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Oldest first. */
  audit(query: { jobIds: readonly string[]; limit: number }): Promise<AuditEntry[]>;
  /** The newest `limit` entries of every job of the tenant (provisioning and lifecycle), oldest first. */
  tenantAudit(query: { slug: string; limit: number }): Promise<AuditEntry[]>;
}

/** A shared customer status link, as stored (the token itself is never stored, only its random id). */
export type StatusLinkRecord = { _id: string; jobId: string; createdBy: string; createdAt: Date; revokedAt?: Date };

export interface StatusLinkStore {
  saveStatusLink(link: StatusLinkRecord): Promise<void>;
  statusLink(linkId: string): Promise<StatusLinkRecord | null>;
  /** The job's links, withdrawn ones too. */
  statusLinksOf(jobId: string): Promise<StatusLinkRecord[]>;
  /** Marks every link of the job withdrawn; returns how many were not already. */
  revokeStatusLinks(jobId: string, at: Date): Promise<number>;
}

/**
 * What the KPIs keep: each job's facts (recomputed only when its stored view
 * moved on) and the first time each tenant used each workflow.
 */
export interface KpiStore {
  ensureKpiIndexes(): Promise<void>;
  /** Every stored job's view sequence number: facts read at a lower one are behind. */
  jobSeqs(): Promise<Map<string, number>>;
  kpiFacts(): Promise<JobFacts[]>;
  saveKpiFacts(facts: JobFacts): Promise<void>;
  /** Whether a tenant with this slug was ever asked for. */
  tenantKnown(slug: string): Promise<boolean>;
  /**
   * Keeps the event ('recorded'), or recognises its id from an earlier delivery ('duplicate');
   * either way the tenant's first use of the workflow reflects the stored event.
   */
  recordActivation(slug: string, event: ActivationEvent, reportedBy: string): Promise<'recorded' | 'duplicate'>;
  firstActivations(): Promise<FirstActivation[]>;
}

/**
 * Deals a CRM sent that need a person (pending_intakes), keyed by the CRM's
 * delivery id so a redelivery is the same record.
 */
export interface PendingIntakeStore {
  ensurePendingIntakeIndexes(): Promise<void>;
  /** Keeps it ('recorded') unless one with its id is kept already ('known'): then nothing changes. */
  recordPendingIntake(pending: PendingIntake): Promise<'recorded' | 'known'>;
  pendingIntake(id: string): Promise<PendingIntake | null>;
  /** Open ones whose notice was never posted, received before `before`, oldest first. */
  unnoticedPendingIntakes(before: Date, limit: number): Promise<PendingIntake[]>;
  markPendingIntakeNoticed(id: string, notice: NonNullable<PendingIntake['notice']>): Promise<void>;
  markPendingIntakeCompleted(id: string, completed: NonNullable<PendingIntake['completed']>): Promise<void>;
}
