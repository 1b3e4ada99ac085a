/**
 * One tenant: where it stands in its lifecycle, what was provisioned for it,
 * the jobs that touched it, and the lifecycle changes its status allows —
 * suspend, reactivate, change plan, decommission — each a form asking the
 * same service as Slack and the CLI. Decommissioning, which cannot be undone,
 * asks for the slug to be typed.
 */
import type { TenantDetail } from '../../app/control-room.ts';
import { allowsEvent, TENANT_STATUS_WORDS, type TenantEvent, type TenantStatus } from '../../domain/tenant-status.ts';
import { html, type Html } from './html.ts';
import { statusPill } from './jobs-page.ts';
import { adminPage, type Viewer } from './layout.ts';
import { when } from './words.ts';

export type TenantPageData = {
  viewer: Viewer;
  detail: TenantDetail;
  notice: { kind: 'done' | 'refused'; text: string } | undefined;
  /** A fresh id for this drawing of the page's forms: sending one twice is one request. */
  requestId: string;
};

/** The pill colours of the jobs list, for the tenant's own status. */
const PILL: Readonly<Record<TenantStatus, string>> = {
  provisioning: 'status-running',
  live: 'status-live',
  failed: 'status-failed',
  rolled_back: 'status-rolled_back',
  suspended: 'status-awaiting_approval',
  decommissioning: 'status-running',
  decommissioned: 'status-rolled_back',
};

function tenantPill(status: TenantStatus): Html {
  const words = TENANT_STATUS_WORDS[status];
  return html`<span class="pill ${PILL[status]}">${words.charAt(0).toUpperCase()}${words.slice(1)}</span>`;
}

type Action = {
  path: string;
  event: TenantEvent;
  title: string;
  explain: string;
  /** The reason's label: "Why suspend?" */
  why: string;
  button: string;
  danger?: boolean;
  fields?: Html;
};

function reason(path: string, label: string): Html {
  return html`<label for="${path}-reason">${label}</label><input id="${path}-reason" name="reason" required minlength="3" maxlength="500" autocomplete="off">`;
}

function actionsFor(detail: TenantDetail): Action[] {
  const { record, plans } = detail;
  const current = record.planId ?? detail.row?.planId;
  const others = plans.filter((p) => p.id !== current);
  const offered: Action[] = [
    {
      path: 'suspend',
      event: 'suspend',
      title: 'Suspend',
      why: 'Why suspend?',
      explain: 'Blocks sign-in at Okta; its data and people are kept. An approver agrees first.',
      button: 'Suspend',
    },
    {
      path: 'reactivate',
      event: 'reactivate',
      title: 'Reactivate',
      why: 'Why reactivate?',
      explain: 'Lets its people sign in again; the tenant is live.',
      button: 'Reactivate',
    },
    {
      path: 'change-plan',
      event: 'change_plan',
      title: 'Change plan',
      why: 'Why change the plan?',
      explain:
        'Its features, limits and Stripe subscription follow the new plan, with proration. A move below its active users waits for an approver, who is told the overage.',
      button: 'Change plan',
      fields: html`<label for="change-plan-plan">New plan</label><select id="change-plan-plan" name="plan" required><option value="">Choose a plan</option>${others.map((p) => html`<option value="${p.id}">${p.name} (${p.id})</option>`)}</select>`,
    },
    {
      path: 'decommission',
      event: 'decommission',
      title: 'Decommission',
      why: 'Why decommission?',
      explain:
        'After an approver agrees and a grace period, its data is exported and everything provisioned for it is removed; its Stripe subscription runs to the end of the period paid for. This cannot be undone once the grace period is over.',
      button: 'Decommission',
      danger: true,
      fields: html`<label for="decommission-confirm">Type <code>${record.slug}</code> to confirm</label><input id="decommission-confirm" name="confirm" required autocomplete="off" spellcheck="false">`,
    },
  ];
  return offered.filter((a) => allowsEvent(record.status, a.event));
}

function actionGroup(data: TenantPageData, action: Action): Html {
  const { slug } = data.detail.record;
  return html`<div class="action-group${action.danger ? ' danger-zone' : ''}"><h3>${action.title}</h3><p>${action.explain}</p>
<form method="post" action="/admin/tenants/${encodeURIComponent(slug)}/${action.path}" class="action">
<input type="hidden" name="_csrf" value="${data.viewer.csrf}">
<input type="hidden" name="request" value="${data.requestId}">
${action.fields ?? ''}
${reason(action.path, action.why)}
<button type="submit"${action.danger ? html` class="danger"` : ''}>${action.button}</button>
</form></div>`;
}

function lifecycle(data: TenantPageData): Html {
  const { record } = data.detail;
  const actions = actionsFor(data.detail);
  const body = actions.length
    ? actions.map((a) => actionGroup(data, a))
    : html`<p class="sub">Nothing can be asked of ${record.slug} while it is ${TENANT_STATUS_WORDS[record.status]}.</p>`;
  return html`<section aria-labelledby="lifecycle-h" data-part="lifecycle"><h2 id="lifecycle-h">Change this tenant</h2>${body}</section>`;
}

function provisioned(detail: TenantDetail): Html {
  const facts = detail.row?.provisioned ?? [];
  if (facts.length === 0) return html``;
  return html`<section aria-labelledby="made-h"><h2 id="made-h">Provisioned</h2>
<dl class="summary">${facts.map((f) => html`<dt>${f.label}</dt><dd><code class="copy">${f.value}</code></dd>`)}</dl></section>`;
}

function jobs(detail: TenantDetail): Html {
  const rows = detail.row?.jobs ?? [];
  return html`<section aria-labelledby="jobs-h"><h2 id="jobs-h">Jobs</h2>
<ul class="plain">${rows.map((j) => html`<li><a href="/admin/jobs/${encodeURIComponent(j.jobId)}"><code>${j.jobId}</code></a> ${statusPill(j.status)} <span class="sub">${when(j.createdAt)}</span></li>`)}</ul></section>`;
}

function notice(data: TenantPageData): Html {
  if (!data.notice) return html``;
  return html`<div class="notice ${data.notice.kind}" role="${data.notice.kind === 'refused' ? 'alert' : 'status'}">${data.notice.text}</div>`;
}

export function tenantPage(data: TenantPageData): Html {
  const { record, row } = data.detail;
  const planId = record.planId ?? row?.planId;
  const plan = data.detail.plans.find((p) => p.id === planId);
  const body = html`<p class="crumbs"><a href="/admin/tenants">Tenants</a> › ${record.companyName}</p>
${notice(data)}
<h1>${record.companyName} ${tenantPill(record.status)}</h1>
<dl class="summary">
<dt>Slug</dt><dd><code class="copy">${record.slug}</code></dd>
${planId ? html`<dt>Plan</dt><dd>${plan ? `${plan.name} (${planId})` : planId}</dd>` : ''}
${row ? html`<dt>Address</dt><dd><code class="copy">${row.tenantUrl}</code></dd>` : ''}
<dt>Provisioned by</dt><dd><a href="/admin/jobs/${encodeURIComponent(record.jobId)}"><code>${record.jobId}</code></a></dd>
${record.reservedUntil === undefined ? '' : html`<dt>Slug reserved until</dt><dd>${when(record.reservedUntil)}</dd>`}
</dl>
${lifecycle(data)}
${provisioned(data.detail)}
${jobs(data.detail)}`;
  return adminPage({ title: `${record.companyName} (${record.slug})`, viewer: data.viewer, section: 'tenants', body });
}
