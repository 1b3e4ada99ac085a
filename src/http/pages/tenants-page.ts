/** Tenants: plan, state, and what was provisioned for each, every id copyable as it is, with the jobs that touched it. */
import type { TenantRow } from '../../app/control-room.ts';
import { html, type Html } from './html.ts';
import { statusPill } from './jobs-page.ts';
import { adminPage, type Viewer } from './layout.ts';
import { when } from './words.ts';

function tenant(t: TenantRow): Html {
  const made = t.provisioned.length
    ? html`<dl class="facts">${t.provisioned.map((p) => html`<dt>${p.label}</dt><dd><code class="copy">${p.value}</code></dd>`)}</dl>`
    : html`<span class="sub">Nothing yet</span>`;
  const jobs = t.jobs.map(
    (j) =>
      html`<li><a href="/admin/jobs/${encodeURIComponent(j.jobId)}"><code>${j.jobId}</code></a> ${statusPill(j.status)} <span class="sub">${when(j.createdAt)}</span></li>`,
  );
  return html`<tr>
<th scope="row"><a href="/admin/tenants/${encodeURIComponent(t.slug)}">${t.companyName}</a><div class="sub"><code class="copy">${t.slug}</code></div></th>
<td>${t.planId}</td>
<td>${statusPill(t.status)}</td>
<td><code class="copy">${t.tenantUrl}</code></td>
<td>${made}</td>
<td><ul class="plain">${jobs}</ul></td>
</tr>`;
}

export function tenantsPage(data: { viewer: Viewer; tenants: readonly TenantRow[] }): Html {
  const body = html`<h1>Tenants</h1>
<table>
<caption class="visually-hidden">Tenants and what was provisioned for them</caption>
<thead><tr><th scope="col">Customer</th><th scope="col">Plan</th><th scope="col">State</th><th scope="col">Address</th><th scope="col">Provisioned</th><th scope="col">Jobs</th></tr></thead>
<tbody>${data.tenants.length ? data.tenants.map(tenant) : html`<tr><td colspan="6" class="empty">No tenants yet.</td></tr>`}</tbody>
</table>`;
  return adminPage({ title: 'Tenants', viewer: data.viewer, section: 'tenants', body });
}
