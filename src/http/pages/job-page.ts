/**
 * One job: who asked for what, the step graph as a picture, every step with
 * its state, attempts, timing, what it made and — when it failed — the full
 * error and stack trace, the plain-language audit trail, and the actions a
 * person can take from here (the same service calls as Slack's buttons).
 */
import type { JobView, StepView } from '../../domain/job-view.ts';
import type { JobPreview } from '../../domain/preview.ts';
import { html, type Html } from './html.ts';
import { adminPage, type Viewer } from './layout.ts';
import { statusPill } from './jobs-page.ts';
import { STATE_WORDS, stepGraph } from './step-graph.ts';
import { planSection } from './job-plan.ts';
import { duration, when } from './words.ts';

export type JobPageData = {
  viewer: Viewer;
  view: JobView;
  createdAt: Date;
  /** Per step id: how many times it was tried in all (1 = once). */
  attempts: ReadonlyMap<string, number>;
  audit: readonly string[];
  /** A link to the job's thread in #onboarding, when Slack is on. */
  slackThread: string | undefined;
  /** A message to show once at the top (what the last action did, or why it was refused). */
  notice: { kind: 'done' | 'refused'; text: string } | undefined;
  /** The customer status link just created by "Share status page". */
  sharedStatusUrl: string | undefined;
  /** The plan the job was started with (its dry-run preview). */
  plan: JobPreview;
};

const ACTIVE_ROLLBACK: ReadonlySet<JobView['status']> = new Set(['failed', 'live', 'rollback_failed', 'cancelled', 'rejected']);
const CANCELLABLE: ReadonlySet<JobView['status']> = new Set(['running', 'awaiting_approval', 'awaiting_input', 'failed']);

function actionForm(
  view: JobView,
  viewer: Viewer,
  action: string,
  label: string,
  fields: Html = html``,
  opts: { danger?: boolean; confirm?: string } = {},
): Html {
  return html`<form method="post" action="/admin/jobs/${encodeURIComponent(view.jobId)}/${action}" class="action"${opts.confirm ? html` data-confirm="${opts.confirm}"` : ''}>
<input type="hidden" name="_csrf" value="${viewer.csrf}">
${fields}
<button type="submit"${opts.danger ? html` class="danger"` : ''}>${label}</button>
</form>`;
}

/** "billing" → "Billing", at the start of a heading. */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function stepField(step: StepView): Html {
  return html`<input type="hidden" name="step" value="${step.id}">`;
}

function reasonField(id: string, label: string): Html {
  return html`<label for="${id}">${label}</label><input id="${id}" name="reason" required minlength="3" maxlength="500" autocomplete="off">`;
}

function stepActions(view: JobView, viewer: Viewer, step: StepView): Html[] {
  const key = `${step.id}-${view.seq}`;
  if (step.state === 'waiting_approval') {
    return [
      html`<div class="action-group"><h3>${sentence(step.label)}: waiting for approval</h3><p>${step.waitingFor ?? ''}</p>
${actionForm(view, viewer, 'approve', 'Approve', stepField(step))}
${actionForm(view, viewer, 'reject', 'Reject', html`${stepField(step)}${reasonField(`reject-${key}`, 'Why reject?')}`, { danger: true })}</div>`,
    ];
  }
  if (step.state === 'failed') {
    const attempt = step.startedAt === undefined ? html`` : html`<input type="hidden" name="attempt" value="${step.startedAt}">`;
    return [
      html`<div class="action-group"><h3>${sentence(step.label)} failed</h3>
${actionForm(view, viewer, 'retry', 'Retry', html`${stepField(step)}${attempt}`)}
${actionForm(view, viewer, 'override', 'Override', html`${stepField(step)}${attempt}${reasonField(`override-${key}`, 'What was done by hand?')}`)}</div>`,
    ];
  }
  if (step.state === 'waiting_input') {
    return [
      html`<div class="action-group"><h3>${sentence(step.label)}: waiting for ${step.waitingFor ?? 'input'}</h3>
${actionForm(
  view,
  viewer,
  'input',
  'Send',
  html`${stepField(step)}<label for="url-${key}">IdP metadata URL</label><input id="url-${key}" name="metadataUrl" type="url" placeholder="https://idp.customer.example/saml/metadata">
<label for="details-${key}">Or the metadata XML / OIDC details</label><textarea id="details-${key}" name="details" rows="4" maxlength="20000"></textarea>`,
)}</div>`,
    ];
  }
  return [];
}

function actions(data: JobPageData): Html {
  const { view, viewer } = data;
  const forSteps = view.steps.flatMap((s) => stepActions(view, viewer, s));
  const job: Html[] = [];
  if (ACTIVE_ROLLBACK.has(view.status) && view.steps.some((s) => s.state === 'succeeded' || s.state === 'compensation_failed')) {
    job.push(
      actionForm(
        view,
        viewer,
        'rollback',
        view.status === 'rollback_failed' ? 'Retry the rollback' : 'Roll back',
        reasonField(`rollback-${view.seq}`, 'Why roll back?'),
        {
          danger: true,
          confirm: `Roll back ${view.tenant.companyName}? Everything provisioned for it is undone.`,
        },
      ),
    );
  }
  if (CANCELLABLE.has(view.status)) {
    job.push(
      actionForm(view, viewer, 'cancel', 'Cancel the job', reasonField(`cancel-${view.seq}`, 'Why cancel?'), {
        danger: true,
        confirm: 'Cancel this job? Nothing new will start.',
      }),
    );
  }
  job.push(actionForm(view, viewer, 'share', 'Share status page'));
  job.push(
    actionForm(view, viewer, 'withdraw', 'Withdraw shared status pages', html``, {
      confirm: 'Withdraw every status page shared for this job? Their links stop working.',
    }),
  );
  return html`<section aria-labelledby="actions-h" data-part="actions"><h2 id="actions-h">Actions</h2>${forSteps}<div class="action-group job-actions">${job}</div></section>`;
}

const FAILED: ReadonlySet<StepView['state']> = new Set(['failed', 'compensation_failed']);

function errorCell(step: StepView): Html {
  // An error the step has since got past (retried, overridden) would only mislead; the trail keeps it.
  if (!step.error || !FAILED.has(step.state)) return html``;
  const trace = step.errorTrace ? html`<details><summary>Stack trace</summary><pre class="trace">${step.errorTrace}</pre></details>` : html``;
  return html`<div class="error"><strong>Error:</strong> <span class="error-message">${step.error}</span>${trace}</div>`;
}

function made(step: StepView): Html {
  const facts = step.facts ?? [];
  if (facts.length === 0) return html``;
  return html`<dl class="facts">${facts.map((f) => html`<dt>${f.label}</dt><dd><code class="copy">${f.value}</code></dd>`)}</dl>`;
}

function stepRow(step: StepView, attempts: number | undefined): Html {
  return html`<tr id="step-${step.id}">
<th scope="row">${step.label}<div class="sub">${step.type}${step.criticality === 'notification' ? ', never blocks' : ''}</div></th>
<td><span class="pill state-${step.state}">${STATE_WORDS[step.state]}</span></td>
<td>${attempts ?? (step.startedAt === undefined ? 0 : 1)}</td>
<td class="nowrap">${step.startedAt === undefined ? '—' : when(step.startedAt)}</td>
<td class="nowrap">${duration(step.durationMs)}</td>
<td>${made(step)}${step.override ? html`<p>Done by hand by ${step.override.by}: ${step.override.reason}</p>` : ''}${step.approvedBy ? html`<p>Approved by ${step.approvedBy}</p>` : ''}${errorCell(step)}</td>
</tr>`;
}

function notice(data: JobPageData): Html {
  const shared = data.sharedStatusUrl
    ? html`<div class="notice done" role="status">Customer status page: <code class="copy">${data.sharedStatusUrl}</code> — share it with the customer; it shows progress only.</div>`
    : html``;
  if (!data.notice) return shared;
  return html`<div class="notice ${data.notice.kind}" role="${data.notice.kind === 'refused' ? 'alert' : 'status'}">${data.notice.text}</div>${shared}`;
}

export function jobPage(data: JobPageData): Html {
  const { view } = data;
  const t = view.tenant;
  const body = html`<p class="crumbs"><a href="/admin">Jobs</a> › ${t.companyName}</p>
${notice(data)}
<div class="job-head" data-part="head" data-live="/admin/jobs/${encodeURIComponent(view.jobId)}" data-seq="${view.seq}">
<h1>${t.companyName} ${statusPill(view.status)}</h1>
<dl class="summary">
<dt>Slug</dt><dd><code class="copy">${t.slug}</code></dd>
<dt>Plan</dt><dd>${t.planId}</dd>
<dt>Address</dt><dd><code class="copy">${t.tenantUrl}</code></dd>
<dt>Requested by</dt><dd>${view.requestedBy}, ${when(data.createdAt)}</dd>
<dt>CRM opportunity</dt><dd><code class="copy">${view.crmOpportunityId}</code></dd>
<dt>Job</dt><dd><code class="copy">${view.jobId}</code></dd>
<dt>Progress</dt><dd>${view.progress.done} of ${view.progress.total} steps done</dd>
${data.slackThread ? html`<dt>Slack</dt><dd><a href="${data.slackThread}">Thread in #onboarding</a></dd>` : ''}
</dl>
</div>
${actions(data)}
<section aria-labelledby="graph-h" data-part="steps"><h2 id="graph-h">Steps</h2>
<div class="graph-wrap">${stepGraph(view.steps)}</div>
<table class="steps">
<thead><tr><th scope="col">Step</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Result</th></tr></thead>
<tbody>${view.steps.map((s) => stepRow(s, data.attempts.get(s.id)))}</tbody>
</table>
</section>
${planSection(data.plan)}
<section aria-labelledby="audit-h" data-part="audit"><h2 id="audit-h">Audit trail</h2>
<ol class="audit">${data.audit.map((line) => (line.startsWith(' ') ? html`<li>${line.trim()}</li>` : html`<li class="day">${line}</li>`))}</ol>
</section>`;
  return adminPage({ title: `${t.companyName} (${t.slug})`, viewer: data.viewer, section: 'jobs', body });
}
