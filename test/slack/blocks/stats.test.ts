import { describe, expect, it } from 'vitest';
import type { JobFacts } from '../../../src/domain/kpi-facts.ts';
import { kpiReport } from '../../../src/domain/kpis.ts';
import { statsBlocks } from '../../../src/slack/blocks/stats.ts';
import { blockErrors } from '../../support/slack-fake.ts';
import { allTexts } from './fixtures.ts';

const now = Date.parse('2026-03-11T12:00:00Z');

function live(plan: string, i: number): JobFacts {
  return {
    jobId: `job-${i}`,
    kind: 'provision',
    seq: 5,
    planId: plan,
    tenantSlug: `t-${i}`,
    companyName: `Company ${i}`,
    requestedAt: now - 2 * 3_600_000,
    signedAt: now - 86_400_000,
    liveAt: now - 3_600_000,
    approvalWaitsMs: [],
    handoffs: { retry: 0, override: 0, rollback: 0, cancel: 0 },
    steps: [],
  };
}

describe('/provision stats', () => {
  it('fits Slack however many plans there are, naming plans as typed', () => {
    const plans = Array.from({ length: 300 }, (_, i) => `*plan_${i}_${'x'.repeat(40)}*`);
    const message = statsBlocks(kpiReport(plans.map(live), [], now), { pageUrl: 'https://provisioner.example.com/admin/kpis' });
    expect(blockErrors(message.blocks, 50, '/blocks')).toEqual([]);
    const texts = allTexts(message.blocks);
    expect(texts[0]).toBe(':bar_chart: *Signed-to-live KPIs* over 300 jobs');
    expect(texts).toContain('*Contract signed → live*\n23 h (p90 23 h)\n_median over 300 tenants live_');
    // A plan name is shown as text, never as Slack formatting.
    expect(texts.find((t) => t.startsWith('Signed → live median by plan:'))).toMatch(/^Signed → live median by plan: `\*plan_0_x+\*` 23 h · /);
    expect(texts.at(-1)).toBe('Charts, tables and CSVs: <https://provisioner.example.com/admin/kpis|KPIs in the control room>');
  });

  it('with no jobs, says so with dashes rather than zeros that look measured', () => {
    const texts = allTexts(statsBlocks(kpiReport([], [], now)).blocks);
    expect(texts).toContain('*Contract signed → live*\n—\n_median over 0 tenants live_');
    expect(texts).toContain('*Needed a person*\n—\n_0 of 0 jobs retried, overridden, rolled back or cancelled_');
  });
});
