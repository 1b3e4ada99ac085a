/**
 * Ephemeral replies to /provision: status, audit, list, help, and the refusal
 * for a click that is not allowed or came too late. Only the person who asked
 * sees them, so they carry no buttons that others could race.
 */
import type { KnownBlock } from '@slack/types';
import type { StaleFailure } from '../../domain/actions.ts';
import { stepLabel, type JobView } from '../../domain/job-view.ts';
import { stepStateWords } from '../../domain/wording.ts';
import type { JobStatus } from '../../domain/job.ts';
import { context, largestFitting, lineSections, message, section, type SlackMessage } from './elements.ts';
import { jobStatusLine, jobStatusText, progressBar, tenantFallback, tenantTitle } from './job-lines.ts';
import { jobSummaryBlocks } from './progress.ts';
import { auditCommandFor, code, escapeMrkdwn, LIMITS, literal, packLines, truncate } from './text.ts';

export type ResponseOptions = { slashCommand?: string };

const NEXT_STEP: Partial<Record<JobStatus, string>> = {
  awaiting_approval: 'An approver can approve or reject it from the job’s thread in #onboarding.',
  awaiting_input: 'When the customer sends the details, click *Provide input* in the job’s thread.',
  failed: 'Retry or override the failed step from the job’s thread, or roll back from the progress message.',
  rollback_failed: 'Retry the rollback from the progress message once the cause is fixed.',
};

export function statusBlocks(view: JobView, opts: ResponseOptions = {}): SlackMessage {
  const audit = auditCommandFor(view.tenant.slug, opts.slashCommand);
  const next = NEXT_STEP[view.status];
  const blocks: KnownBlock[] = [
    ...jobSummaryBlocks(view, audit),
    ...(next ? [section(`*What next:* ${next}`)] : []),
    context(`Job ${code(view.jobId)} · Audit: ${code(audit)}`),
  ];
  return message(`${tenantFallback(view)}: ${jobStatusText(view)}`, blocks);
}

/** Sections for the trail; with the heading and footer well inside a message. */
const MAX_AUDIT_SECTIONS = 4;
/** Past this many lines the terminal is the better place to read. */
const MAX_AUDIT_LINES = 150;

/** Lines from auditText: date headings at the margin, entries indented. */
const isHeading = (line: string): boolean => !/^\s/.test(line);

function auditLineText(line: string): string {
  return isHeading(line) ? `*${literal(line)}*` : literal(line.trim());
}

/**
 * The newest lines that fit, under the date heading they belong to, with a
 * note on how to read the rest.
 */
export function auditBlocks(job: JobView, lines: readonly string[], opts: { verbose: boolean }): SlackMessage {
  const title = `:scroll: Audit trail for ${tenantTitle(job)}${opts.verbose ? ' (everything, routine steps included)' : ''}`;
  const command = `npx provisioner audit ${job.tenant.slug}${opts.verbose ? ' --verbose' : ''}`;
  const rendered = lines.map(auditLineText);
  const note = (shown: number) => `_Showing the newest ${shown} of ${lines.length} lines._ ${code(command)} shows the whole trail.`;
  const build = (k: number): string[] => {
    if (k === lines.length) return rendered;
    const start = lines.length - k;
    return [note(k), ...headingBefore(lines, start), ...rendered.slice(start)];
  };
  const body =
    rendered.length === 0 ? ['Nothing recorded yet.'] : build(largestFitting(Math.min(lines.length, MAX_AUDIT_LINES), MAX_AUDIT_SECTIONS, build));
  return message(`Audit trail for ${tenantFallback(job)}`, [section(title), ...packLines(body).map((c) => section(c))]);
}

/** The date heading for the line at `start`, when the cut would leave its entries without one. */
function headingBefore(lines: readonly string[], start: number): string[] {
  if (start >= lines.length || isHeading(lines[start] ?? '')) return [];
  for (let i = start - 1; i >= 0; i -= 1) {
    const line = lines[i] ?? '';
    if (isHeading(line)) return [auditLineText(line)];
  }
  return [];
}

const MAX_LIST_SECTIONS = 10;

export function listBlocks(jobs: readonly JobView[]): SlackMessage {
  if (jobs.length === 0) {
    return message('No jobs need attention', [section(':sparkles: Nothing is running, waiting or failed.')]);
  }
  const lines = jobs.map((j) => `${tenantTitle(j)} — ${jobStatusLine(j)} · ${progressBar(j.progress.done, j.progress.total)}`);
  const more = (hidden: number) => `…and ${hidden} more (\`npx provisioner list\` shows them all)`;
  return message(`${jobs.length} job${jobs.length === 1 ? '' : 's'}`, [
    section(`*${jobs.length} job${jobs.length === 1 ? '' : 's'}*`),
    ...lineSections(lines, MAX_LIST_SECTIONS, more),
  ]);
}

const HELP: readonly (readonly [string, string])[] = [
  ['', 'open the form for a new tenant (company, plan, contract, features)'],
  [' status <slug>', "where a tenant's provisioning is, step by step"],
  [' audit <slug>', 'who did what and when, in plain words'],
  [' list', 'jobs that are running, waiting or failed'],
  [' stats', 'signed-to-live KPIs: time to live, handoffs, approvals, first use'],
  [' suspend <slug>', 'block sign-in for a live tenant, keeping its data (an approver agrees first)'],
  [' reactivate <slug>', 'let a suspended tenant’s people sign in again'],
  [' upgrade <slug>', 'or downgrade: move a tenant to another plan (its features, limits and subscription follow)'],
  [' decommission <slug>', 'export a tenant’s data and remove it after a grace period (always approved first)'],
  [' drift [slug]', 'paid but not enabled, and enabled but not paid'],
  [' help', 'this help'],
];

export function helpBlocks(opts: ResponseOptions = {}): SlackMessage {
  const command = opts.slashCommand ?? '/provision';
  // "<slug>" must be escaped: Slack reads angle brackets as links even inside code.
  const lines = HELP.map(([args, what]) => `${code(command + args)} — ${what}`);
  return message(`How to use ${escapeMrkdwn(command)}`, [
    section('*Provisioning tenants*'),
    section(lines.join('\n')),
    context('Approvals, retries, overrides and rollbacks happen with the buttons in each job’s thread in #onboarding.'),
  ]);
}

/** A plain answer to a question (e.g. nothing found): what was typed is quoted back as typed, and cut to fit. */
export function answerText(text: string): SlackMessage {
  return message(escapeMrkdwn(text), [section(literal(text))]);
}

/** `/provision status` with no tenant named. */
export function whichTenant(subcommand: string, opts: ResponseOptions = {}): SlackMessage {
  const example = `${opts.slashCommand ?? '/provision'} ${subcommand} acme`;
  return message(`Which tenant? Try ${escapeMrkdwn(example)}.`, [section(`Which tenant? Try ${code(example)}.`)]);
}

/** An action that is not allowed, or a button that is out of date. */
export function refusal(text: string): SlackMessage {
  return message(escapeMrkdwn(text), [section(`:no_entry: ${truncate(literal(text), LIMITS.text - 20)}`)]);
}

/** A Retry or Override clicked on an earlier failure's message: what happened since, and where to act instead. */
export function staleFailureText(stale: StaleFailure): string {
  const step = stepLabel(stale.stepId);
  if (stale.why === 'failed_again') {
    return `Nothing changed: this button is for an earlier failure of step ${step}, which has been retried and failed again since. Use Retry or Override on the latest failure message in the thread.`;
  }
  return `Nothing changed: that failure of step ${step} was already dealt with; the step is ${stepStateWords(stale.state)} now.`;
}

/** What the AE sees after submitting the intake modal: where to follow the job. */
export function provisionConfirmation(opts: {
  outcome: 'created' | 'existing';
  slug: string;
  channel: string;
  /** Link to the job's progress message, when it is already posted. */
  progressUrl: string | undefined;
}): SlackMessage {
  const what = (slug: string) =>
    opts.outcome === 'created' ? `Provisioning started for ${slug}.` : `This opportunity already has a job, for ${slug}.`;
  const where = opts.progressUrl ? `<${opts.progressUrl}|Follow its progress> in <#${opts.channel}>.` : `Follow it in <#${opts.channel}>.`;
  const text = `${what(code(opts.slug))} ${where} ${code(`/provision status ${opts.slug}`)} shows where it is.`;
  return message(`${what(escapeMrkdwn(opts.slug))} Follow it in #onboarding.`, [section(`:rocket: ${text}`)]);
}

/** The answer to "Share status page", for the clicker only: the link, and what the customer will and will not see. */
export function statusPageShared(job: Pick<JobView, 'tenant'>, url: string): string {
  return `Customer status page for *${literal(job.tenant.companyName)}*: ${url}\nIt shows the customer plain progress only (no ids, errors or names) and stops working some days after go-live.`;
}
