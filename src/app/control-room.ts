/**
 * What the web control room reads: the jobs list (from the in-memory
 * catalogue), one job with its trail and attempts, and the tenants with what
 * was provisioned for them. Actions go through ProvisioningService like every
 * other door's; this class only answers questions.
 */
import { auditText, type AuditEntry } from '../domain/audit.ts';
import { ActionRefusedError } from '../domain/errors.ts';
import type { JobView } from '../domain/job-view.ts';
import type { JobPreview } from '../domain/preview.ts';
import type { JobSummary } from '../domain/job-summary.ts';
import type { JobStore, TenantRecord } from '../ports/store.ts';
import type { JobCatalog, JobPage, JobQuery } from './job-catalog.ts';
import type { ProvisioningService } from './services.ts';

export type JobDetail = {
  view: JobView;
  createdAt: Date;
  entries: AuditEntry[];
  lines: string[];
  /** Per step id: how many times it was tried in all, automatic and manual retries included. */
  attempts: Map<string, number>;
  /** What the job was planned to create when it started, recomputed from its stored definition. */
  plan: JobPreview;
};

export type TenantRow = {
  slug: string;
  companyName: string;
  planId: string;
  status: JobView['status'];
  tenantUrl: string;
  /** What was made for it, by the step that made it: label → value. */
  provisioned: { step: string; label: string; value: string }[];
  /** Every job that touched this tenant, newest first. */
  jobs: { jobId: string; status: JobView['status']; createdAt: Date }[];
};

/** One tenant's page: where it stands (its lifecycle status), what was made for it, its jobs, and the plans it may move to. */
export type TenantDetail = { record: TenantRecord; row: TenantRow | undefined; plans: { id: string; name: string }[] };

export class ControlRoom {
  private readonly provisioning: ProvisioningService;
  private readonly store: JobStore;
  private readonly catalog: JobCatalog;

  constructor(deps: { provisioning: ProvisioningService; store: JobStore; catalog: JobCatalog }) {
    this.provisioning = deps.provisioning;
    this.store = deps.store;
    this.catalog = deps.catalog;
  }

  jobs(query: JobQuery): JobPage {
    return this.catalog.query(query);
  }

  plans(): string[] {
    return this.catalog.plans();
  }

  async job(jobId: string): Promise<JobDetail> {
    const record = await this.store.getJob(jobId);
    if (!record) throw new ActionRefusedError(`there is no job "${jobId}"`);
    const view = await this.provisioning.status(jobId);
    const entries = await this.store.audit({ jobIds: [jobId], limit: 5000 });
    const plan = this.provisioning.previewOf(record.definition);
    return { view, createdAt: record.createdAt, entries, lines: auditText(entries), attempts: attemptsOf(entries), plan };
  }

  /** One tenant; UnknownTenantError when there is none. */
  async tenant(slug: string): Promise<TenantDetail> {
    const record = await this.provisioning.lifecycle.tenant(slug);
    const [row] = await this.tenantRows([
      this.catalog.query({ page: 1, pageSize: 1000, search: record.slug }).rows.filter((r) => r.slug === record.slug),
    ]);
    return { record, row, plans: this.provisioning.lifecycle.plans() };
  }

  /** Tenants, newest first, each with its latest job's results and every job that touched it. */
  async tenants(limit = 500): Promise<TenantRow[]> {
    const { rows } = this.catalog.query({ page: 1, pageSize: 100_000 });
    const bySlug = new Map<string, typeof rows>();
    for (const row of rows) bySlug.set(row.slug, [...(bySlug.get(row.slug) ?? []), row]);
    return this.tenantRows([...bySlug.values()].slice(0, limit));
  }

  /** One row per tenant from its jobs, newest first. */
  private tenantRows(tenants: JobSummary[][]): Promise<TenantRow[]> {
    return Promise.all(
      tenants
        .filter((jobs) => jobs.length > 0)
        .map(async (jobs) => {
          const [latest] = jobs;
          const view = latest ? await this.provisioning.status(latest.jobId) : undefined;
          if (!latest || !view) throw new Error('a tenant without jobs');
          return {
            slug: view.tenant.slug,
            companyName: view.tenant.companyName,
            planId: view.tenant.planId,
            status: view.status,
            tenantUrl: view.tenant.tenantUrl,
            provisioned: view.steps.flatMap((s) => (s.facts ?? []).map((f) => ({ step: s.label, label: f.label, value: f.value }))),
            jobs: jobs.map((j) => ({ jobId: j.jobId, status: j.status, createdAt: j.createdAt })),
          };
        }),
    );
  }
}

function attemptsOf(entries: readonly AuditEntry[]): Map<string, number> {
  const attempts = new Map<string, number>();
  for (const e of entries) {
    if (!e.stepId) continue;
    const more = e.type === 'step.retrying' || e.type === 'step.retried' ? 1 : e.type === 'step.started' && !attempts.has(e.stepId) ? 1 : 0;
    if (more > 0) attempts.set(e.stepId, (attempts.get(e.stepId) ?? 0) + more);
  }
  return attempts;
}
