/**
 * What the admin panel's query strings and forms mean, read once: the jobs
 * filters, and each action's form turned into the same service call a Slack
 * button or a CLI command makes. Each call answers what was done, in words.
 */
import type { JobQuery } from '../../app/job-catalog.ts';
import type { ProvisioningService } from '../../app/services.ts';
import { InvalidInputError } from '../../domain/errors.ts';
import type { Identity } from '../../domain/policy.ts';
import { parseStepInput } from '../../domain/step-input.ts';
import { STATE_FILTERS, type JobFilters, type StateFilter } from '../pages/jobs-page.ts';

export const PAGE_SIZE = 25;

function isStateFilter(value: string): value is StateFilter {
  return Object.hasOwn(STATE_FILTERS, value);
}

const DAY_FORMAT = /^\d{4}-\d{2}-\d{2}$/;

function day(value: string | undefined): Date | undefined {
  if (!value || !DAY_FORMAT.test(value)) return undefined;
  const at = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The filters as the form shows them again, and the query they ask of the catalogue (unknown values are ignored). */
export function jobQueryOf(fields: Record<string, string>): { filters: JobFilters; query: JobQuery } {
  const filters: JobFilters = {};
  const query: JobQuery = { page: Math.max(1, Number.parseInt(fields['page'] ?? '1', 10) || 1), pageSize: PAGE_SIZE };
  const state = fields['state'];
  if (state && isStateFilter(state)) {
    filters.state = state;
    query.statuses = STATE_FILTERS[state].statuses;
  }
  const text = (name: 'plan' | 'requester' | 'q') => fields[name]?.trim().slice(0, 120) || undefined;
  const plan = text('plan');
  const requester = text('requester');
  const search = text('q');
  if (plan) query.plan = filters.plan = plan;
  if (requester) query.requester = filters.requester = requester;
  if (search) query.search = filters.q = search;
  const from = day(fields['from']);
  const to = day(fields['to']);
  if (from) {
    query.from = from;
    filters.from = fields['from'];
  }
  if (to) {
    query.to = to;
    filters.to = fields['to'];
  }
  return { filters, query };
}

type ActionForm = Record<string, string>;
type JobActionHandler = (service: ProvisioningService, who: Identity, jobId: string, form: ActionForm) => Promise<string>;

function attempt(form: ActionForm): number | undefined {
  const n = Number(form['attempt']);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function step(form: ActionForm): string | undefined {
  return form['step'] || undefined;
}

/** Each action the job page offers: the service call, and what the page says once it is done. */
export const jobActions: Readonly<Record<string, JobActionHandler>> = {
  approve: async (s, who, jobId, f) => {
    await s.approve(jobId, who, step(f));
    return 'Approved.';
  },
  reject: async (s, who, jobId, f) => {
    await s.reject(jobId, who, f['reason'] ?? '', step(f));
    return 'Rejected.';
  },
  retry: async (s, who, jobId, f) => {
    await s.retry(jobId, who, step(f), attempt(f));
    return 'Retrying the step.';
  },
  override: async (s, who, jobId, f) => {
    await s.override(jobId, who, step(f) ?? '', f['reason'] ?? '', attempt(f));
    return 'Marked as done by hand; the job carries on.';
  },
  input: async (s, who, jobId, f) => {
    const parsed = parseStepInput({ metadataUrl: f['metadataUrl'], details: f['details'] });
    if (!parsed.ok) throw new InvalidInputError([{ field: parsed.field, message: parsed.message }]);
    await s.provideInput(jobId, who, parsed.input, step(f));
    return 'Input sent; the step carries on.';
  },
  rollback: async (s, who, jobId, f) => {
    await s.rollback(jobId, who, f['reason'] ?? '');
    return 'Rolling back.';
  },
  withdraw: async (s, who, jobId) => {
    const withdrawn = await s.withdrawStatusPages(jobId, who);
    return withdrawn === 0
      ? 'No status page of this job was shared.'
      : `Withdrawn: ${withdrawn} shared status page${withdrawn === 1 ? '' : 's'} now answer "not found".`;
  },
  cancel: async (s, who, jobId, f) => {
    await s.cancel(jobId, who, f['reason'] ?? '');
    return 'Cancelled; nothing new will start.';
  },
};
