/** A job in one line: what lists of jobs show and filter on. */
import type { JobView } from './job-view.ts';
import type { JobStatus } from './job.ts';

export type JobSummary = {
  jobId: string;
  status: JobStatus;
  slug: string;
  companyName: string;
  planId: string;
  requestedBy: string;
  crmOpportunityId: string;
  createdAt: Date;
  updatedAt: Date;
  progress: { done: number; total: number };
};

export function summaryOf(view: JobView, createdAt: Date, updatedAt: Date): JobSummary {
  return {
    jobId: view.jobId,
    status: view.status,
    slug: view.tenant.slug,
    companyName: view.tenant.companyName,
    planId: view.tenant.planId,
    requestedBy: view.requestedBy,
    crmOpportunityId: view.crmOpportunityId,
    createdAt,
    updatedAt,
    progress: view.progress,
  };
}
