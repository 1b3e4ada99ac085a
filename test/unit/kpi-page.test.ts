/**
 * What the KPI page and its downloads do with text people typed (company
 * names): a CSV a spreadsheet opens without running anything, and chart data
 * embedded in the page that cannot end its script element.
 */
import { describe, expect, it } from 'vitest';
import type { JobFacts } from '../../src/domain/kpi-facts.ts';
import { headlines } from '../../src/domain/kpi-words.ts';
import { kpiReport } from '../../src/domain/kpis.ts';
import { tableCsv } from '../../src/http/pages/csv.ts';
import { kpiTables } from '../../src/http/pages/kpi-tables.ts';
import { kpisPage } from '../../src/http/pages/kpis-page.ts';

const now = Date.parse('2026-03-11T12:00:00Z');
const HOSTILE = '</script><script>alert(1)</script> =HYPERLINK("http://evil.example"),"Co"';

function liveJob(companyName: string): JobFacts {
  return {
    jobId: 'job-1',
    kind: 'provision',
    seq: 3,
    planId: 'starter',
    tenantSlug: 'hostile',
    companyName,
    requestedAt: now - 3_600_000,
    signedAt: now - 86_400_000,
    liveAt: now - 60_000,
    approvalWaitsMs: [],
    handoffs: { retry: 0, override: 0, rollback: 0, cancel: 0 },
    steps: [{ type: 'billing', runs: 2, failures: 1, recoveriesMs: [90_000], unrecovered: 0 }],
  };
}

describe('the KPI page and its downloads', () => {
  const report = kpiReport([liveJob(HOSTILE)], [], now);
  const tables = kpiTables(report);

  it('CSV: raw numbers in named units, quoted fields, and text that does not start a formula', () => {
    const steps = tables.find((t) => t.name === 'step-failures');
    if (!steps) throw new Error('no step-failures table');
    expect(tableCsv(steps)).toBe(
      'Step type,Runs,Failed,Failure rate (0-1),Mean time to recover (s),Recovered,Not recovered\r\nbilling,2,1,0.5,90,1,0\r\n',
    );
    expect(tableCsv({ columns: [{ label: 'Tenant', kind: 'text' }], rows: [['=HYPERLINK("x")'], ['a,b'], ['-1']] })).toBe(
      `Tenant\r\n"'=HYPERLINK(""x"")"\r\n"a,b"\r\n'-1\r\n`,
    );
  });

  it('the chart data cannot close its script element, and reads back as it was', () => {
    const page = kpisPage({
      viewer: { name: 'Sam', csrf: 'x'.repeat(24), canAct: true, managesQueues: false },
      at: now,
      jobs: 1,
      headlines: headlines(report),
      tables,
    }).text;
    const scripts = page.match(/<script[^>]*>/g) ?? [];
    expect(scripts).toEqual([
      '<script type="application/json" id="kpi-charts">',
      '<script src="/assets/admin.js" defer>',
      '<script src="/assets/chart.umd.min.js" defer>',
      '<script src="/assets/kpis.js" defer>',
    ]);
    const json = /<script type="application\/json" id="kpi-charts">(.*?)<\/script>/s.exec(page)?.[1] ?? '';
    const charts: unknown = JSON.parse(json);
    expect(JSON.stringify(charts)).toContain(HOSTILE.replace(/"/g, '\\"'));
    // In the tables the name is escaped text.
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
