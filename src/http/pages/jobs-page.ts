/**
 * The jobs list: every job, newest first, with filters people use (state,
 * plan, requester, dates, a search box for slug, company or CRM opportunity),
 * pages of 25, and a table body the page swaps in place when jobs change.
 */
import type { JobSummary } from '../../domain/job-summary.ts';
import type { JobStatus } from '../../domain/job.ts';
import { html, type Html } from './html.ts';
import { adminPage, type Viewer } from './layout.ts';
import { STATUS_WORDS, when } from './words.ts';

/** The filter groups offered in the State menu, by what people ask for. */
export const STATE_FILTERS = {
  active: {
    label: 'Active (running, waiting or failed)',
    statuses: ['running', 'awaiting_approval', 'awaiting_input', 'failed', 'rolling_back', 'rollback_failed'],
  },
  waiting: { label: 'Waiting for a person', statuses: ['awaiting_approval', 'awaiting_input'] },
  failed: { label: 'Failed', statuses: ['failed', 'rollback_failed'] },
  live: { label: 'Live', statuses: ['live'] },
  rolled_back: { label: 'Rolled back', statuses: ['rolled_back'] },
  stopped: { label: 'Cancelled or rejected', statuses: ['cancelled', 'rejected'] },
} as const;
export type StateFilter = keyof typeof STATE_FILTERS;

export type JobFilters = { state?: StateFilter; plan?: string; requester?: string; from?: string; to?: string; q?: string };

export type JobsPageData = {
  viewer: Viewer;
  rows: readonly JobSummary[];
  filters: JobFilters;
  plans: readonly string[];
  page: number;
  pageCount: number;
  total: number;
};

function option(value: string, label: string, selected: string | undefined): Html {
  return html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
}

function filterForm(data: JobsPageData): Html {
  const f = data.filters;
  const states = Object.entries(STATE_FILTERS).map(([value, { label }]) => option(value, label, f.state));
  return html`<form class="filters" method="get" action="/admin" role="search">
<label>Search <input type="search" name="q" value="${f.q ?? ''}" placeholder="slug, company or CRM opportunity"></label>
<label>State <select name="state">${option('', 'Any state', f.state ?? '')}${states}</select></label>
<label>Plan <select name="plan">${option('', 'Any plan', f.plan ?? '')}${data.plans.map((p) => option(p, p, f.plan))}</select></label>
<label>Requested by <input type="text" name="requester" value="${f.requester ?? ''}"></label>
<label>From <input type="date" name="from" value="${f.from ?? ''}"></label>
<label>To <input type="date" name="to" value="${f.to ?? ''}"></label>
<button type="submit">Filter</button>
<a href="/admin" class="reset">Clear</a>
</form>`;
}

export function statusPill(status: JobStatus): Html {
  return html`<span class="pill status-${status}">${STATUS_WORDS[status]}</span>`;
}

function row(job: JobSummary): Html {
  return html`<tr>
<td><a href="/admin/jobs/${encodeURIComponent(job.jobId)}">${job.companyName}</a><div class="sub"><code>${job.slug}</code></div></td>
<td>${statusPill(job.status)}</td>
<td>${job.planId}</td>
<td>${job.progress.done} of ${job.progress.total}</td>
<td>${job.requestedBy}</td>
<td><code>${job.crmOpportunityId}</code></td>
<td><time datetime="${job.createdAt.toISOString()}">${when(job.createdAt)}</time></td>
</tr>`;
}

/** Just the rows and the count: what the page fetches again when a job changes. */
export function jobsTableBody(data: Pick<JobsPageData, 'rows' | 'total'>): Html {
  if (data.rows.length === 0) return html`<tbody id="job-rows" data-total="0"><tr><td colspan="7" class="empty">No jobs match.</td></tr></tbody>`;
  return html`<tbody id="job-rows" data-total="${data.total}">${data.rows.map(row)}</tbody>`;
}

function pager(data: JobsPageData): Html {
  if (data.pageCount <= 1) return html``;
  const link = (page: number, label: string, rel: string) => {
    const params = new URLSearchParams(Object.entries({ ...data.filters, page: String(page) }).filter((e): e is [string, string] => Boolean(e[1])));
    return html`<a href="/admin?${params.toString()}" rel="${rel}">${label}</a>`;
  };
  return html`<nav class="pager" aria-label="Pages">
${data.page > 1 ? link(data.page - 1, '← Newer', 'prev') : ''}
<span>Page ${data.page} of ${data.pageCount}</span>
${data.page < data.pageCount ? link(data.page + 1, 'Older →', 'next') : ''}
</nav>`;
}

export function jobsPage(data: JobsPageData): Html {
  const body = html`<h1>Jobs</h1>
${filterForm(data)}
<p class="count" aria-live="polite"><span id="job-count">${data.total}</span> job${data.total === 1 ? '' : 's'}<span class="live-dot" title="Updates live"></span></p>
<table class="jobs" data-live="/admin/jobs/rows">
<caption class="visually-hidden">Provisioning jobs, newest first</caption>
<thead><tr><th scope="col">Customer</th><th scope="col">State</th><th scope="col">Plan</th><th scope="col">Steps done</th><th scope="col">Requested by</th><th scope="col">CRM opportunity</th><th scope="col">Requested</th></tr></thead>
${jobsTableBody(data)}
</table>
${pager(data)}`;
  return adminPage({ title: 'Jobs', viewer: data.viewer, section: 'jobs', body });
}
