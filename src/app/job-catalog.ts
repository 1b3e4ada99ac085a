/**
 * The jobs list behind the admin panel, kept in memory: a small summary of
 * every job, loaded from the store once and then kept current from the event
 * feed. Filtering, sorting and counting thousands of jobs in memory takes
 * microseconds, where the local MongoDB-wire store would read every document
 * for each question (it hands only equality filters down); real MongoDB would
 * not need it, and the catalogue costs it nothing either.
 */
import { summaryOf, type JobSummary } from '../domain/job-summary.ts';
import type { JobView } from '../domain/job-view.ts';
import type { EventFeed } from '../engine/feed.ts';
import type { JobStatus } from '../domain/job.ts';

export type { JobSummary } from '../domain/job-summary.ts';

export type JobQuery = {
  statuses?: readonly JobStatus[];
  plan?: string;
  /** Part of the requester's name, any case. */
  requester?: string;
  /** Requested on or after / before (UTC days, inclusive). */
  from?: Date;
  to?: Date;
  /** A slug, a company name (any case, a part of it) or a CRM opportunity id / job id (exact). */
  search?: string;
  page: number;
  pageSize: number;
};

export type JobPage = { rows: JobSummary[]; total: number; page: number; pageCount: number };

const DAY = 86_400_000;

function matches(job: JobSummary, q: JobQuery): boolean {
  if (q.statuses && !q.statuses.includes(job.status)) return false;
  if (q.plan && job.planId !== q.plan) return false;
  if (q.requester && !job.requestedBy.toLowerCase().includes(q.requester.toLowerCase())) return false;
  if (q.from && job.createdAt.getTime() < q.from.getTime()) return false;
  if (q.to && job.createdAt.getTime() >= q.to.getTime() + DAY) return false;
  if (q.search) {
    const s = q.search.trim();
    const lower = s.toLowerCase();
    const hit = job.slug === lower || job.crmOpportunityId === s || job.jobId === s || job.companyName.toLowerCase().includes(lower);
    if (!hit) return false;
  }
  return true;
}

export class JobCatalog {
  private readonly jobs = new Map<string, JobSummary>();
  /** Newest first; rebuilt lazily after changes. */
  private ordered: JobSummary[] | undefined;

  /** Adds or replaces a job's summary (a newer view of the same job replaces an older one). */
  put(summary: JobSummary): void {
    const known = this.jobs.get(summary.jobId);
    if (known && known.updatedAt.getTime() > summary.updatedAt.getTime()) return;
    this.jobs.set(summary.jobId, summary);
    this.ordered = undefined;
  }

  get size(): number {
    return this.jobs.size;
  }

  query(q: JobQuery): JobPage {
    this.ordered ??= [...this.jobs.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.jobId < b.jobId ? -1 : 1));
    const hits = this.ordered.filter((job) => matches(job, q));
    const pageCount = Math.max(1, Math.ceil(hits.length / q.pageSize));
    const page = Math.min(Math.max(1, q.page), pageCount);
    return { rows: hits.slice((page - 1) * q.pageSize, page * q.pageSize), total: hits.length, page, pageCount };
  }

  plans(): string[] {
    return [...new Set([...this.jobs.values()].map((j) => j.planId))].sort();
  }
}

/**
 * Loads the catalogue from the store and keeps it current: every event names
 * a job whose summary is read again from its live view (several events of one
 * job within a moment are read once). A full reload every few minutes catches
 * anything a reconnect missed.
 */
export async function startCatalog(deps: {
  summaries(): Promise<JobSummary[]>;
  view(jobId: string): Promise<JobView | null>;
  feed: EventFeed;
  onError(err: unknown): void;
  reloadEveryMs?: number;
}): Promise<{ catalog: JobCatalog; stop(): void }> {
  const catalog = new JobCatalog();
  const reload = async () => {
    for (const summary of await deps.summaries()) catalog.put(summary);
  };
  await reload();
  const pending = new Set<string>();
  let flushing: ReturnType<typeof setTimeout> | undefined;
  const flush = async () => {
    flushing = undefined;
    const jobIds = [...pending];
    pending.clear();
    await Promise.all(
      jobIds.map(async (jobId) => {
        const view = await deps.view(jobId);
        if (view) catalog.put(summaryOf(view, new Date(view.requestedAt), new Date()));
      }),
    );
  };
  const unsubscribe = deps.feed.subscribe((event) => {
    pending.add(event.jobId);
    flushing ??= setTimeout(() => void flush().catch(deps.onError), 50);
  });
  const reloading = setInterval(() => void reload().catch(deps.onError), deps.reloadEveryMs ?? 300_000);
  return {
    catalog,
    stop() {
      unsubscribe();
      clearInterval(reloading);
      if (flushing) clearTimeout(flushing);
    },
  };
}
