/**
 * /admin/kpis: the headline figures, then each KPI as a chart with its table
 * beside it and a CSV download. Server-rendered: without JavaScript the
 * tables say everything; with it, kpis.js draws the charts from the data
 * embedded as JSON (the page allows scripts only from this server).
 */
import { type Headline, shareWords, spanWords } from '../../domain/kpi-words.ts';
import { chartData, type ChartData } from './kpi-chart-data.ts';
import type { Cell, Column, KpiTable } from './kpi-tables.ts';
import { html, type Html, trusted } from './html.ts';
import { adminPage, type Viewer } from './layout.ts';
import { when } from './words.ts';

/** Tables with more columns than this do not fit beside a chart: they go under it. */
const WIDE = 4;

export type KpisPageData = { viewer: Viewer; at: number; jobs: number; headlines: Headline[]; tables: KpiTable[] };

function cellText(cell: Cell, kind: Column['kind']): string {
  if (cell === undefined) return '—';
  if (typeof cell === 'string') return cell;
  if (kind === 'duration') return spanWords(cell);
  if (kind === 'share') return shareWords(cell);
  if (kind === 'time') return new Date(cell).toISOString().slice(0, 10);
  return cell.toLocaleString('en-US');
}

function table(t: KpiTable): Html {
  const rows = t.rows.slice(0, t.pageRows ?? t.rows.length);
  const head = t.columns.map((c) => html`<th scope="col"${c.kind === 'text' ? '' : html` class="num"`}>${c.label}</th>`);
  const body =
    rows.length === 0
      ? html`<tr><td colspan="${t.columns.length}" class="empty">Nothing to show yet.</td></tr>`
      : rows.map(
          (row) =>
            html`<tr>${t.columns.map((c, i) =>
              i === 0 ? html`<th scope="row">${cellText(row[i], c.kind)}</th>` : html`<td class="num">${cellText(row[i], c.kind)}</td>`,
            )}</tr>`,
        );
  return html`<table class="kpi-table">
<caption class="visually-hidden">${t.title}</caption>
<thead><tr>${head}</tr></thead>
<tbody>${body}</tbody>
</table>`;
}

function block(t: KpiTable): Html {
  return html`<section class="kpi-block" id="${t.name}" aria-labelledby="${t.name}-title">
<h2 id="${t.name}-title">${t.title}</h2>
<p class="sub">${t.about}</p>
${t.notes.map((n) => html`<p class="note">${n}</p>`)}
<div class="chart-block${t.columns.length > WIDE ? ' stacked' : ''}">
<figure class="chart"><canvas data-chart="${t.name}" role="img" aria-label="Chart of ${t.title.toLowerCase()}; the table beside it holds the same figures"></canvas></figure>
<div class="table-side">
${table(t)}
<p><a class="download" href="/admin/kpis/${t.name}.csv" download>Download CSV</a></p>
</div>
</div>
</section>`;
}

/** JSON inside a script element: nothing in it may end the element or start a comment. */
function embeddedJson(value: readonly ChartData[]): Html {
  const text = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return trusted(`<script type="application/json" id="kpi-charts">${text}</script>`);
}

export function kpisPage(data: KpisPageData): Html {
  const figures = data.headlines.map(
    (h) =>
      html`<div class="kpi" data-kpi="${h.key}"><div class="label">${h.label}</div><div class="figure">${h.figure}</div>${h.p90 === undefined ? '' : html`<div class="p90">p90 ${h.p90}</div>`}<div class="sub">${h.detail}</div></div>`,
  );
  const body = html`<h1>Signed-to-live KPIs</h1>
<p class="crumbs">Over all ${data.jobs.toLocaleString('en-US')} jobs, as of <time datetime="${new Date(data.at).toISOString()}">${when(data.at)}</time>. Medians and 90th percentiles (p90); times in UTC.</p>
<div class="kpi-grid headlines">${figures}</div>
${data.tables.map(block)}
${embeddedJson(data.tables.map(chartData))}`;
  return adminPage({ title: 'KPIs', viewer: data.viewer, section: 'kpis', body, scripts: ['/assets/chart.umd.min.js', '/assets/kpis.js'] });
}
