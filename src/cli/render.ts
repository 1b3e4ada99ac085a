/** Terminal rendering: pure functions from jobs and events to lines of text. */
import { kindOf, kindStatusWords } from '../domain/job-kind.ts';
import { clockTime } from '../domain/calendar.ts';
import { formatDuration } from '../domain/audit.ts';
import type { JobEvent } from '../domain/events.ts';
import type { JobView, StepView } from '../domain/job-view.ts';
import type { JobStatus, StepState } from '../domain/job.ts';

const ICON: Record<StepState, string> = {
  pending: '·',
  ready: '…',
  running: '▶',
  waiting_approval: '⏸',
  waiting_input: '⏸',
  succeeded: '✓',
  failed: '✗',
  overridden: '≈',
  compensating: '↺',
  compensated: '↩',
  compensation_failed: '✗',
};

const EVENT_ICON: Partial<Record<JobEvent['type'], string>> = {
  'job.created': '●',
  'job.live': '★',
  'step.started': '▶',
  'step.succeeded': '✓',
  'step.failed': '✗',
  'step.retrying': '↻',
  'step.polling': '…',
  'step.reminder': '⏰',
  'step.waiting_approval': '⏸',
  'step.waiting_input': '⏸',
  'step.compensated': '↩',
  'step.compensation_failed': '✗',
};

export function progressBar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total}`;
}

/** One line per event: time, progress, what happened. */
export function eventLine(event: JobEvent, view: JobView | null): string {
  const time = clockTime(event.at, { seconds: true });
  const bar = view ? progressBar(view.progress.done, view.progress.total) : '';
  const duration = event.durationMs !== undefined && event.type !== 'step.failed' ? ` (${formatDuration(event.durationMs)})` : '';
  return `${time} ${bar}  ${EVENT_ICON[event.type] ?? '•'} ${event.summary}${duration}`;
}

const STATUS_TEXT: Record<JobStatus, string> = {
  running: 'running',
  awaiting_approval: 'waiting for approval',
  awaiting_input: 'waiting for customer input',
  failed: 'failed: needs a person (retry, override or roll back)',
  live: 'live',
  cancelled: 'cancelled',
  rejected: 'rejected',
  rolling_back: 'rolling back',
  rolled_back: 'rolled back',
  rollback_failed: 'rollback failed: retry the rollback',
};

export function statusText(status: JobStatus): string {
  return STATUS_TEXT[status];
}

function stepLine(step: StepView): string {
  const duration = step.durationMs !== undefined ? ` ${formatDuration(step.durationMs)}` : '';
  const extra = step.error ?? step.waitingFor ?? (step.override ? `overridden by ${step.override.by}: "${step.override.reason}"` : '');
  const note = extra ? `  — ${extra}` : '';
  const kind = step.criticality === 'notification' ? ' (notification)' : '';
  return `  ${ICON[step.state]} ${step.id.padEnd(16)} ${step.state.replace('_', ' ').padEnd(20)}${duration}${kind}${note}`;
}

export function jobText(view: JobView): string[] {
  return [
    `${view.tenant.companyName} — ${view.tenant.planId} plan — slug ${view.tenant.slug} — job ${view.jobId}`,
    `Requested by ${view.requestedBy} (CRM ${view.crmOpportunityId}); tenant URL ${view.tenant.tenantUrl}`,
    `Status: ${kindStatusWords(kindOf(view), view.status, view.tenant.slug) ?? statusText(view.status)}  ${progressBar(view.progress.done, view.progress.total)}`,
    ...view.steps.map(stepLine),
  ];
}

/** What a person can do next, as commands. */
export function nextSteps(view: JobView): string[] {
  const slug = view.tenant.slug;
  const waiting = view.steps.filter((s) => s.state === 'waiting_approval' || s.state === 'waiting_input' || s.state === 'failed');
  return waiting.map((s) => {
    if (s.state === 'waiting_approval') return `approve: provisioner approve ${slug}   (or reject: provisioner reject ${slug} --reason "…")`;
    if (s.state === 'waiting_input') return `provide input: provisioner input ${slug} --step ${s.id} --json '{"metadataUrl":"https://…"}'`;
    return `step ${s.id} failed: provisioner retry ${slug} --step ${s.id}  |  provisioner override ${slug} --step ${s.id} --reason "…"  |  provisioner rollback ${slug} --reason "…"`;
  });
}
