/**
 * The pieces of text every job message shares: the emoji for a step state,
 * the status sentence, a step line and the progress bar. One place, so the
 * progress message, thread replies and /provision status agree.
 */
import { formatDuration } from '../../domain/audit.ts';
import { kindOf, kindStatusWords } from '../../domain/job-kind.ts';
import type { JobView, StepView } from '../../domain/job-view.ts';
import type { JobStatus, StepState } from '../../domain/job.ts';
import { redactText } from '../../domain/redact.ts';
import { stepStateWords } from '../../domain/wording.ts';
import { code, escapeMrkdwn, literal, truncate } from './text.ts';

export const STATE_EMOJI: Record<StepState, string> = {
  pending: ':white_circle:',
  ready: ':clock3:',
  running: ':arrows_counterclockwise:',
  waiting_approval: ':raised_hand:',
  waiting_input: ':memo:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  overridden: ':ballot_box_with_check:',
  compensating: ':rewind:',
  compensated: ':leftwards_arrow_with_hook:',
  compensation_failed: ':warning:',
};

const STATUS: Record<JobStatus, { emoji: string; text: string }> = {
  running: { emoji: ':arrows_counterclockwise:', text: 'Provisioning' },
  awaiting_approval: { emoji: ':raised_hand:', text: 'Waiting for approval' },
  awaiting_input: { emoji: ':memo:', text: 'Waiting for customer input' },
  failed: { emoji: ':x:', text: 'Failed: needs a person (retry, override or roll back)' },
  live: { emoji: ':white_check_mark:', text: 'Live' },
  cancelled: { emoji: ':no_entry_sign:', text: 'Cancelled' },
  rejected: { emoji: ':no_entry:', text: 'Rejected' },
  rolling_back: { emoji: ':rewind:', text: 'Rolling back' },
  rolled_back: { emoji: ':leftwards_arrow_with_hook:', text: 'Rolled back' },
  rollback_failed: { emoji: ':warning:', text: 'Rollback failed: retry the rollback' },
};

export function statusLine(status: JobStatus): string {
  return `${STATUS[status].emoji} ${statusText(status)}`;
}

export function statusText(status: JobStatus): string {
  return STATUS[status].text;
}

/**
 * The status of this job in its kind's words: a lifecycle job says what it does to which tenant
 * ("Suspending acme", "Suspended acme") where a provisioning job says "Provisioning" and "Live".
 */
export function jobStatusText(view: Pick<JobView, 'status' | 'kind' | 'tenant'>): string {
  return kindStatusWords(kindOf(view), view.status, view.tenant.slug) ?? statusText(view.status);
}

export function jobStatusLine(view: Pick<JobView, 'status' | 'kind' | 'tenant'>): string {
  return `${STATUS[view.status].emoji} ${jobStatusText(view)}`;
}

/** Errors and prompts come from integrations: redacted again (Slack is a wide audience) and escaped. */
export function outsideText(text: string, max: number): string {
  return truncate(literal(redactText(text)), max);
}

/** A step's error or wait, kept short in lists; the thread reply has the whole of it. */
const NOTE_MAX = 200;

export function stepLine(step: StepView): string {
  const duration = step.durationMs !== undefined ? ` · ${formatDuration(step.durationMs)}` : '';
  const kind = step.criticality === 'notification' ? ' _(best effort)_' : '';
  return `${STATE_EMOJI[step.state]} *${literal(step.label)}* — ${stepStateWords(step.state)}${duration}${kind}${stepNote(step)}`;
}

function stepNote(step: StepView): string {
  if (step.override) {
    return `: overridden by ${outsideText(step.override.by, 80)}, "${outsideText(step.override.reason, NOTE_MAX)}"`;
  }
  if (step.state === 'failed' || step.state === 'compensation_failed') {
    return step.error ? `: ${outsideText(step.error, NOTE_MAX)}` : '';
  }
  if (step.state === 'waiting_approval' || step.state === 'waiting_input') {
    return step.waitingFor ? `: ${outsideText(step.waitingFor, NOTE_MAX)}` : '';
  }
  return '';
}

const BAR_WIDTH = 10;

/** "▰▰▰▱▱▱▱▱▱▱ 3/10 steps" */
export function progressBar(done: number, total: number): string {
  const filled = total === 0 ? BAR_WIDTH : Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
  return `${'▰'.repeat(filled)}${'▱'.repeat(BAR_WIDTH - filled)} ${done}/${total} steps`;
}

/** A Slack user id is shown as a mention; any other name as escaped text. */
export function personText(name: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(name) ? `<@${name}>` : truncate(literal(name), 120);
}

/**
 * Who asked for the job and for which CRM opportunity: "Requested by <@U…> · CRM `006…`", or for a
 * program calling the API "Requested by Salesforce through the API (opportunity `006…`)".
 */
export function requestedByLine(view: JobView): string {
  if (view.requester?.door === 'api') {
    return `Requested by ${truncate(literal(view.requestedBy), 120)} through the API (opportunity ${code(view.crmOpportunityId)})`;
  }
  return `Requested by ${personText(view.requestedBy)} · CRM ${code(view.crmOpportunityId)}`;
}

/** Company names are at most 120 characters (intake); the cap guards stored data we did not validate. */
const companyName = (view: JobView): string => truncate(literal(view.tenant.companyName), 200);

/** "*Acme Corp* · enterprise plan · `acme`" */
export function tenantTitle(view: JobView): string {
  return `*${companyName(view)}* · ${literal(view.tenant.planId)} plan · ${code(view.tenant.slug)}`;
}

/** The same, for the plain-text fallback of a message (no markup to display raw in notifications). */
export function tenantFallback(view: JobView): string {
  return `${truncate(escapeMrkdwn(view.tenant.companyName), 200)} (${escapeMrkdwn(view.tenant.slug)})`;
}

/** Approval reasons are stored joined with "; " (see the step worker). */
export function approvalReasons(step: StepView): string[] {
  return (step.waitingFor ?? '').split('; ').filter((r) => r.trim() !== '');
}
