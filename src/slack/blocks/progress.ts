/**
 * The one live message per job in #onboarding: who and what, one line per
 * step, how far along, what it waits for, and a way out (roll back). It is
 * edited in place as the job moves, so it must always fit Slack's limits,
 * however large the pipeline.
 */
import type { KnownBlock } from '@slack/types';
import type { JobView, StepView } from '../../domain/job-view.ts';
import type { JobStatus } from '../../domain/job.ts';
import { ACTIONS, encodeAction } from './actions.ts';
import { actions, button, confirmDialog, context, divider, lineSections, message, section, type SlackMessage } from './elements.ts';
import {
  approvalReasons,
  jobStatusLine,
  jobStatusText,
  outsideText,
  progressBar,
  requestedByLine,
  STATE_EMOJI,
  stepLine,
  tenantFallback,
  tenantTitle,
} from './job-lines.ts';
import { auditCommandFor, code, literal, packLines } from './text.ts';

/** Sections for step lines; with the rest of the message this stays far below 50 blocks. */
const MAX_STEP_SECTIONS = 4;

export type ProgressOptions = {
  /** What to type for the whole trail, e.g. "/provision audit acme" (a bare "/provision" gets " audit <slug>" added). */
  auditCommand: string;
};

export function progressMessage(view: JobView, opts: ProgressOptions): SlackMessage {
  const audit = auditCommandFor(view.tenant.slug, opts.auditCommand);
  const blocks: KnownBlock[] = [
    ...jobSummaryBlocks(view, audit),
    ...progressActions(view),
    context(`Job ${code(view.jobId)} · Audit: ${code(audit)}`),
  ];
  return message(progressFallback(view), blocks);
}

/** Heading, status, waits and steps: shared with the ephemeral /provision status. */
export function jobSummaryBlocks(view: JobView, audit: string): KnownBlock[] {
  const heading = `:package: ${tenantTitle(view)}\n${requestedByLine(view)}`;
  const status = `*${jobStatusLine(view)}*   ${progressBar(view.progress.done, view.progress.total)}`;
  const waits = waitingLines(view);
  return [section(heading), section(waits.length > 0 ? `${status}\n${waits.join('\n')}` : status), divider(), ...stepSections(view.steps, audit)];
}

function progressFallback(view: JobView): string {
  const { done, total } = view.progress;
  return `${tenantFallback(view)}: ${jobStatusText(view)} (${done}/${total} steps)`;
}

/** What the job is waiting for, in words: who must act, and on what. */
function waitingLines(view: JobView): string[] {
  return view.steps.flatMap((step): string[] => {
    if (step.state === 'waiting_approval') {
      const reasons = approvalReasons(step).map((r) => outsideText(r, 300));
      return [`${STATE_EMOJI.waiting_approval} Waiting for approval${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`];
    }
    if (step.state === 'waiting_input') {
      const wanted = outsideText(step.waitingFor ?? 'details from the customer', 300);
      return [`${STATE_EMOJI.waiting_input} Waiting for customer input (${literal(step.label)}): ${wanted}`];
    }
    return [];
  });
}

/**
 * One line per step, packed into a few sections. A huge pipeline first folds
 * its finished steps into one line, then is cut with a pointer to the audit.
 */
function stepSections(steps: readonly StepView[], audit: string): KnownBlock[] {
  const more = (hidden: number) => `…and ${hidden} more step${hidden === 1 ? '' : 's'} (see ${code(audit)})`;
  const all = steps.map(stepLine);
  const lines = packLines(all).length <= MAX_STEP_SECTIONS ? all : foldDone(steps);
  return lineSections(lines, MAX_STEP_SECTIONS, more);
}

/** Finished steps as one line: they need no attention, the rest might. */
function foldDone(steps: readonly StepView[]): string[] {
  const done = steps.filter((s) => s.state === 'succeeded');
  const rest = steps.filter((s) => s.state !== 'succeeded').map(stepLine);
  if (done.length === 0) return rest;
  const names = done.map((s) => literal(s.label)).join(', ');
  return [`${STATE_EMOJI.succeeded} ${done.length} steps done: ${names}`, ...rest];
}

const ROLLBACK_WHEN: ReadonlySet<JobStatus> = new Set(['live', 'failed', 'awaiting_approval', 'awaiting_input', 'rollback_failed']);

/** A customer status page makes sense while the tenant is coming or there; not once it was stopped or undone. */
const SHARE_WHEN: ReadonlySet<JobStatus> = new Set(['running', 'awaiting_approval', 'awaiting_input', 'failed', 'live']);

/** Share the customer's status page; roll back while something may be left to undo. */
function progressActions(view: JobView): KnownBlock[] {
  const buttons = [...shareButton(view), ...rollbackButton(view)];
  return buttons.length > 0 ? [actions('job_progress_actions', ...buttons)] : [];
}

function shareButton(view: JobView) {
  if (!SHARE_WHEN.has(view.status)) return [];
  return [button({ actionId: ACTIONS.shareStatus, text: 'Share status page', value: encodeAction({ jobId: view.jobId, seq: view.seq }) })];
}

/** Roll back while something may be left to undo; nothing once rolled back or rejected. */
function rollbackButton(view: JobView) {
  const leftovers = view.status === 'cancelled' && view.steps.some((s) => s.state === 'succeeded');
  if (!ROLLBACK_WHEN.has(view.status) && !leftovers) return [];
  const retry = view.status === 'rollback_failed';
  const company = literal(view.tenant.companyName);
  return [
    button({
      actionId: ACTIONS.rollback,
      text: retry ? 'Retry rollback' : 'Roll back',
      style: 'danger',
      value: encodeAction({ jobId: view.jobId, seq: view.seq }),
      confirm: confirmDialog({
        title: retry ? 'Retry the rollback?' : 'Roll back this tenant?',
        text: retry
          ? `Tries again to undo the steps whose undo failed for *${company}*.`
          : `Undoes every completed step for *${company}* (database, DNS, billing…). You will be asked for a reason.`,
        confirm: retry ? 'Retry rollback' : 'Roll back',
        deny: 'Keep it',
        danger: true,
      }),
    }),
  ];
}
