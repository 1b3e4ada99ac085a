/**
 * Replies in a job's thread: the moments a person must act (approve, fix a
 * failure, give input), the rollback as it happens, and the tenant going
 * live. Each returns `{ text, blocks }`; buttons carry an ActionRef so a
 * stale click can be refused.
 */
import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../domain/audit.ts';
import type { EventType, JobEvent } from '../../domain/events.ts';
import { kindDoneWords, kindOf, type LifecycleKind } from '../../domain/job-kind.ts';
import type { JobView, StepView } from '../../domain/job-view.ts';
import { ACTIONS, encodeAction } from './actions.ts';
import { actions, button, confirmDialog, context, message, section, type SlackMessage } from './elements.ts';
import { approvalReasons, outsideText, personText, requestedByLine, STATE_EMOJI, stepLine, tenantFallback, tenantTitle } from './job-lines.ts';
import { auditCommandFor, code, escapeMrkdwn, literal, slackTime } from './text.ts';

export { ACTIONS, decodeAction, encodeAction, type ActionRef } from './actions.ts';

export type Approvers = { userIds: string[]; groupId?: string };

/** Shared by every reply: how to reach the full trail. */
export type ThreadOptions = { auditCommand?: string };

const stepRef = (view: JobView, step: StepView): string => encodeAction({ jobId: view.jobId, stepId: step.id, seq: view.seq });

function auditContext(view: JobView, opts: ThreadOptions): KnownBlock {
  return context(`Audit: ${code(auditCommandFor(view.tenant.slug, opts.auditCommand))}`);
}

/** Only well-formed ids become mentions: anything else could be markup. */
export function mentions(approvers: Approvers): string {
  const users = approvers.userIds.filter((id) => /^[UW][A-Z0-9]{2,}$/.test(id)).map((id) => `<@${id}>`);
  const group = approvers.groupId && /^S[A-Z0-9]{2,}$/.test(approvers.groupId) ? [`<!subteam^${approvers.groupId}>`] : [];
  return [...group, ...users].join(' ');
}

export function approvalRequest(view: JobView, step: StepView, approvers: Approvers, opts: ThreadOptions = {}): SlackMessage {
  const who = mentions(approvers);
  const reasons = approvalReasons(step).map((r) => `• ${outsideText(r, 500)}`);
  const company = literal(view.tenant.companyName);
  return message(`${who ? `${who} ` : ''}Approval needed for ${tenantFallback(view)}`, [
    section(`${STATE_EMOJI.waiting_approval} *Approval needed* for ${tenantTitle(view)}${who ? `\n${who}` : ''}`),
    section(`*Why*\n${reasons.length > 0 ? reasons.join('\n') : '• The pipeline asks for an approval here'}`),
    context(requestedByLine(view)),
    actions(
      'job_approval_actions',
      button({
        actionId: ACTIONS.approve,
        text: 'Approve',
        style: 'primary',
        value: stepRef(view, step),
        // Approving starts paid infrastructure; one more click is cheap.
        confirm: confirmDialog({
          title: 'Approve provisioning?',
          text: `Provisioning for *${company}* starts right away.`,
          confirm: 'Approve',
          deny: 'Not yet',
        }),
      }),
      button({ actionId: ACTIONS.reject, text: 'Reject', style: 'danger', value: stepRef(view, step) }),
    ),
    auditContext(view, opts),
  ]);
}

const BEST_EFFORT_FAILED = 'This step is best effort: the tenant still goes live. *Retry* it, or *Override* if you did it by hand.';
const BLOCKING_FAILED =
  'Provisioning is paused: nothing new starts until someone acts. *Retry* if the problem was temporary, ' +
  '*Override* if you did the step by hand (you give a reason), or roll back from the progress message.';

/**
 * Retry and Override for the step's current failure. A notifier that lags may
 * draw this after the step already moved on: then there is nothing to offer.
 */
export function stepFailed(view: JobView, step: StepView, opts: ThreadOptions = {}): SlackMessage {
  const error = outsideText(step.error ?? 'no error message was recorded', 2500);
  const meaning = step.criticality === 'notification' ? BEST_EFFORT_FAILED : BLOCKING_FAILED;
  return message(`Step ${escapeMrkdwn(step.label)} failed for ${tenantFallback(view)}`, [
    section(`${STATE_EMOJI.failed} Step *${literal(step.label)}* failed for ${tenantTitle(view)}\n${quote(error)}`),
    ...(step.state === 'failed' ? [section(meaning), failureActions(view, step)] : [context(`Since then: ${stepLine(step)}`)]),
    auditContext(view, opts),
  ]);
}

/** The buttons name the failed attempt, so a later failure of the same step gets buttons of its own. */
function failureActions(view: JobView, step: StepView): KnownBlock {
  const value = encodeAction({
    jobId: view.jobId,
    stepId: step.id,
    seq: view.seq,
    ...(step.startedAt !== undefined ? { attemptStartedAt: step.startedAt } : {}),
  });
  return actions(
    'step_failed_actions',
    button({ actionId: ACTIONS.retry, text: 'Retry', style: 'primary', value }),
    button({ actionId: ACTIONS.override, text: 'Override', value }),
  );
}

/** Each line as a block quote, so a multi-line error reads as one quoted message. */
function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
}

export function inputRequested(view: JobView, step: StepView, opts: ThreadOptions = {}): SlackMessage {
  const wanted = outsideText(step.waitingFor ?? 'details from the customer', 500);
  const fallbackWanted = escapeMrkdwn(step.waitingFor ?? 'details from the customer');
  return message(`${tenantFallback(view)}: step ${escapeMrkdwn(step.label)} is waiting for ${fallbackWanted}`, [
    section(`${STATE_EMOJI.waiting_input} Step *${literal(step.label)}* for ${tenantTitle(view)} is waiting for ${wanted}`),
    section('When the customer sends it, click *Provide input* and paste it in; the step then carries on by itself.'),
    actions('step_input_actions', button({ actionId: ACTIONS.provideInput, text: 'Provide input', style: 'primary', value: stepRef(view, step) })),
    auditContext(view, opts),
  ]);
}

const EVENT_EMOJI: Partial<Record<EventType, string>> = {
  'job.created': ':package:',
  'job.live': ':tada:',
  'job.cancelled': ':no_entry_sign:',
  'job.rollback_started': ':rewind:',
  'job.rollback_retried': ':rewind:',
  'job.rollback_finished': ':leftwards_arrow_with_hook:',
  'step.started': ':arrow_forward:',
  'step.resumed': ':arrow_forward:',
  'step.polling': ':hourglass_flowing_sand:',
  'step.reminder': ':alarm_clock:',
  'step.retrying': ':repeat:',
  'step.succeeded': STATE_EMOJI.succeeded,
  'step.failed': STATE_EMOJI.failed,
  'step.waiting_approval': STATE_EMOJI.waiting_approval,
  'step.waiting_input': STATE_EMOJI.waiting_input,
  'step.approved': ':thumbsup:',
  'step.rejected': ':no_entry:',
  'step.input_provided': ':inbox_tray:',
  'step.retried': ':repeat:',
  'step.overridden': STATE_EMOJI.overridden,
  'step.compensated': STATE_EMOJI.compensated,
  'step.compensation_failed': STATE_EMOJI.compensation_failed,
};

/** "10:42 ✅ DNS record acme.example.com created (1.2 s)", in the reader's time zone. */
function eventSentence(event: JobEvent): string {
  const duration = event.durationMs !== undefined && event.type !== 'step.failed' ? ` (${formatDuration(event.durationMs)})` : '';
  return `${EVENT_EMOJI[event.type] ?? ':small_blue_diamond:'} ${outsideText(event.summary, 2500)}${duration}`;
}

/** A one-liner for any event without a reply of its own. */
export function eventLine(view: JobView, event: JobEvent): SlackMessage {
  return message(`${tenantFallback(view)}: ${outsideText(event.summary, 2500)}`, [context(`${slackTime(event.at)} ${eventSentence(event)}`)]);
}

/** A reminder while a job waits out a grace period, with a way to stop it (Cancel asks for a reason). */
export function reminderLine(view: JobView, event: JobEvent): SlackMessage {
  const cancel = button({ actionId: ACTIONS.cancel, text: 'Cancel', style: 'danger', value: encodeAction({ jobId: view.jobId, seq: view.seq }) });
  return message(`${tenantFallback(view)}: ${outsideText(event.summary, 2500)}`, [
    context(`${slackTime(event.at)} ${eventSentence(event)}`),
    actions('reminder_actions', cancel),
  ]);
}

export function rollbackUpdate(view: JobView, event: JobEvent, opts: ThreadOptions = {}): SlackMessage {
  const lines = [eventSentence(event)];
  if (event.type === 'step.compensation_failed' && event.error && !event.summary.includes(event.error)) {
    lines.push(quote(outsideText(event.error, 1500)));
  }
  if (view.status === 'rolled_back') lines.push(rollbackDone(view));
  const blocks: KnownBlock[] = [section(lines.join('\n'))];
  if (view.status === 'rollback_failed') {
    blocks.push(
      section('Some undo failed. Fix the cause, then retry the rollback: steps already undone are not touched again.'),
      actions(
        'rollback_actions',
        button({ actionId: ACTIONS.rollback, text: 'Retry rollback', style: 'danger', value: encodeAction({ jobId: view.jobId, seq: view.seq }) }),
      ),
    );
  }
  blocks.push(auditContext(view, opts));
  return message(`${tenantFallback(view)}: ${outsideText(event.summary, 2500)}`, blocks);
}

/** The closing line of a rollback; steps done by hand are reported, never undone. */
function rollbackDone(view: JobView): string {
  const undone = view.steps.filter((s) => s.state === 'compensated').length;
  const byHand = view.steps.filter((s) => s.state === 'overridden').map((s) => literal(s.label));
  const manual = byHand.length > 0 ? `\nDone by hand, so not undone: ${byHand.join(', ')}.` : '';
  return `*Rollback finished:* ${undone} step${undone === 1 ? '' : 's'} undone.${manual}`;
}

/** "Billing customer: `cus_…`": what the finished steps declare worth showing, verbatim for copying. */
function factLines(view: JobView): string[] {
  return view.steps.filter((s) => s.state === 'succeeded').flatMap((s) => (s.facts ?? []).map((f) => `${literal(f.label)}: ${code(f.value)}`));
}

/** A lifecycle job's closing line: "Suspended acme", with who asked. */
function lifecycleDone(view: JobView, kind: LifecycleKind, opts: ThreadOptions): SlackMessage {
  const text = kindDoneWords(kind, view.tenant.slug);
  return message(`${tenantFallback(view)}: ${escapeMrkdwn(text)}`, [
    section(`${STATE_EMOJI.succeeded} ${tenantTitle(view)}: ${literal(text)}`),
    context(`Requested by ${personText(view.requestedBy)}`),
    auditContext(view, opts),
  ]);
}

/** A link only for a URL that cannot break out of the <url|label> markup; otherwise the text. */
function link(url: string, label: string): string {
  return /^https?:\/\/[^\s<>|]+$/.test(url) ? `<${url}|${escapeMrkdwn(label)}>` : code(url);
}

export function completed(view: JobView, opts: ThreadOptions = {}): SlackMessage {
  const kind = kindOf(view);
  if (kind !== 'provision') return lifecycleDone(view, kind, opts);
  const { tenantUrl, dnsName } = view.tenant;
  const skipped = view.steps.filter((s) => s.state === 'failed' && s.criticality === 'notification').map((s) => literal(s.label));
  const lines = [
    `:tada: ${tenantTitle(view)} is live at ${link(tenantUrl, dnsName)}`,
    ...factLines(view),
    ...(skipped.length > 0 ? [`${STATE_EMOJI.failed} Best-effort steps that failed (retry them from their messages): ${skipped.join(', ')}`] : []),
  ];
  return message(`${tenantFallback(view)} is live at ${escapeMrkdwn(tenantUrl)}`, [
    section(lines.join('\n')),
    context(`Requested by ${personText(view.requestedBy)}`),
    auditContext(view, opts),
  ]);
}
