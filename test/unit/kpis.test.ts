/**
 * The KPI arithmetic with inputs worked out by hand: percentiles, ISO weeks,
 * what one job's trail says (approval wait, handoffs, failures and recovery,
 * a tenant live before its contract starts), and the figures over many jobs.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { EventType } from '../../src/domain/events.ts';
import type { JobDefinition } from '../../src/domain/job-definition.ts';
import { activationReport, parseActivationEvent } from '../../src/domain/activation.ts';
import { jobFacts, type JobFacts } from '../../src/domain/kpi-facts.ts';
import { isoWeek, lastWeeks, percentile, spreadOf, weekStart } from '../../src/domain/kpi-maths.ts';
import { kpiReport } from '../../src/domain/kpis.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
/** Hours as ms, to the millisecond (interpolated percentiles are floating point). */
const hours = (h: number) => expect.closeTo(h * HOUR, 0);

function definition(o: { jobId: string; plan: string; createdAt: string; contractStartDate: string; steps: Record<string, string> }): JobDefinition {
  return {
    jobId: o.jobId,
    createdAt: o.createdAt,
    intake: {
      companyName: 'Acme Corp',
      slug: 'acme',
      adminEmail: 'it@acme.example',
      plan: o.plan,
      contractStartDate: o.contractStartDate,
      contractValue: 10_000,
      dataResidency: 'us',
      featureOverrides: {},
      crmOpportunityId: '006ACME',
      requestedBy: 'jane.ae',
    },
    tenant: {
      tenantId: 'acme',
      slug: 'acme',
      companyName: 'Acme Corp',
      planId: o.plan,
      databaseName: 'tenant_acme',
      isolation: 'shared',
      dnsName: 'acme.tenants.example.com',
      tenantUrl: 'https://acme.tenants.example.com',
      secretPath: 'tenants/acme',
      billingMetadata: {},
      features: {},
      seedVersion: 'v1',
      approvalReasons: [],
    },
    steps: Object.entries(o.steps).map(([id, type]) => ({
      id,
      type,
      needs: [],
      dependents: [],
      criticality: 'blocking',
      retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 0, jitter: 0 } },
      timeoutMs: 1000,
      pollTimeoutMs: 1000,
      input: {},
    })),
  };
}

let n = 0;
function entry(when: string, type: EventType, stepId?: string): AuditEntry {
  n += 1;
  return {
    id: `e${String(n).padStart(4, '0')}`,
    jobId: 'acme-1',
    tenantSlug: 'acme',
    companyName: 'Acme Corp',
    at: new Date(when),
    type,
    actor: 'provisioner',
    summary: type,
    ...(stepId ? { stepId } : {}),
  };
}

const STEPS = { approval_gate: 'approval', database: 'tenant_database', billing: 'billing' };

describe('percentiles and weeks', () => {
  it('interpolates between the closest ranks', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBeCloseTo(9.1, 10);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
    expect(spreadOf([10, 20, 30])).toEqual({ count: 3, medianMs: 20, p90Ms: 28 });
    expect(spreadOf([])).toEqual({ count: 0 });
  });

  it('names ISO weeks in UTC, across year ends', () => {
    expect(isoWeek(at('2026-12-31T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(at('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(at('2027-01-04T00:00:00Z'))).toBe('2027-W01');
    expect(isoWeek(at('2024-12-30T08:00:00Z'))).toBe('2025-W01');
    expect(isoWeek(at('2021-01-03T23:59:59Z'))).toBe('2020-W53');
    expect(weekStart(at('2026-03-08T23:59:59Z'))).toBe(at('2026-03-02T00:00:00Z'));
    expect(weekStart(at('2026-03-09T00:00:00Z'))).toBe(at('2026-03-09T00:00:00Z'));
    expect(lastWeeks(at('2026-03-11T10:00:00Z'), 3)).toEqual([at('2026-02-23T00:00:00Z'), at('2026-03-02T00:00:00Z'), at('2026-03-09T00:00:00Z')]);
  });
});

describe('what one job says', () => {
  it('reads the approval wait, what people had to do, and each step type’s failures and recovery', () => {
    const def = definition({ jobId: 'acme-1', plan: 'growth', createdAt: '2026-03-02T10:00:00.000Z', contractStartDate: '2026-03-01', steps: STEPS });
    const trail = [
      entry('2026-03-02T10:00:00Z', 'job.created'),
      entry('2026-03-02T10:00:01Z', 'step.waiting_approval', 'approval_gate'),
      entry('2026-03-02T10:30:01Z', 'step.approved', 'approval_gate'),
      entry('2026-03-02T10:30:02Z', 'step.started', 'database'),
      entry('2026-03-02T10:30:05Z', 'step.succeeded', 'database'),
      entry('2026-03-02T10:31:00Z', 'step.failed', 'billing'),
      entry('2026-03-02T10:40:00Z', 'step.retried', 'billing'),
      entry('2026-03-02T10:41:00Z', 'step.failed', 'billing'),
      entry('2026-03-02T11:01:00Z', 'step.overridden', 'billing'),
      entry('2026-03-02T11:02:00Z', 'job.live'),
    ];
    // Order in the store does not matter.
    const facts = jobFacts(def, 9, [...trail].reverse());
    expect(facts).toEqual({
      jobId: 'acme-1',
      kind: 'provision',
      seq: 9,
      planId: 'growth',
      tenantSlug: 'acme',
      companyName: 'Acme Corp',
      requestedAt: at('2026-03-02T10:00:00Z'),
      signedAt: at('2026-03-01T00:00:00Z'),
      liveAt: at('2026-03-02T11:02:00Z'),
      approvalWaitsMs: [30 * MIN],
      handoffs: { retry: 1, override: 1, rollback: 0, cancel: 0 },
      steps: [
        { type: 'billing', runs: 2, failures: 2, recoveriesMs: [30 * MIN], unrecovered: 0 },
        { type: 'tenant_database', runs: 1, failures: 0, recoveriesMs: [], unrecovered: 0 },
      ],
    } satisfies JobFacts);
  });

  it('keeps a failure nobody dealt with open, and an approval nobody decided waiting — unless the job was cancelled', () => {
    const def = definition({
      jobId: 'acme-1',
      plan: 'starter',
      createdAt: '2026-03-02T10:00:00.000Z',
      contractStartDate: '2026-03-02',
      steps: STEPS,
    });
    const failed = jobFacts(def, 3, [entry('2026-03-02T10:00:05Z', 'step.failed', 'database')]);
    expect(failed.steps).toEqual([{ type: 'tenant_database', runs: 1, failures: 1, recoveriesMs: [], unrecovered: 1 }]);
    expect(failed.liveAt).toBeUndefined();

    const asked = entry('2026-03-02T10:00:01Z', 'step.waiting_approval', 'approval_gate');
    expect(jobFacts(def, 2, [asked]).approvalWaitingSince).toBe(at('2026-03-02T10:00:01Z'));
    const cancelled = jobFacts(def, 3, [asked, entry('2026-03-02T12:00:00Z', 'job.cancelled')]);
    expect(cancelled.approvalWaitingSince).toBeUndefined();
    expect(cancelled.handoffs.cancel).toBe(1);
  });
});

function facts(o: Partial<JobFacts> & { jobId: string; liveAfter?: number }): JobFacts {
  const requestedAt = o.requestedAt ?? at('2026-03-02T09:00:00Z');
  const { liveAfter, ...rest } = o;
  return {
    kind: 'provision',
    seq: 1,
    planId: 'starter',
    tenantSlug: o.jobId,
    companyName: o.jobId,
    requestedAt,
    signedAt: at('2026-03-02T00:00:00Z'),
    approvalWaitsMs: [],
    handoffs: { retry: 0, override: 0, rollback: 0, cancel: 0 },
    steps: [],
    ...(liveAfter === undefined ? {} : { liveAt: requestedAt + liveAfter }),
    ...rest,
  };
}

describe('the figures over many jobs', () => {
  const now = at('2026-03-11T12:00:00Z');

  it('time to live: median and p90 overall, by plan and by the week tenants went live; a tenant live before its contract counts 0', () => {
    const all = [
      facts({ jobId: 'a', liveAfter: 1 * HOUR }),
      facts({ jobId: 'b', liveAfter: 2 * HOUR }),
      facts({ jobId: 'c', liveAfter: 3 * HOUR }),
      facts({ jobId: 'd', planId: 'growth', liveAfter: 4 * HOUR, requestedAt: at('2026-03-09T09:00:00Z'), signedAt: at('2026-03-05T00:00:00Z') }),
      // Live on 2 March, contract from 20 March: 0, and said.
      facts({ jobId: 'e', planId: 'growth', liveAfter: 5 * HOUR, signedAt: at('2026-03-20T00:00:00Z') }),
      facts({ jobId: 'f', planId: 'growth' }),
    ];
    const report = kpiReport(all, [], now);
    expect(report.jobs).toBe(6);
    expect(report.timeToLive.live).toBe(5);
    expect(report.timeToLive.liveBeforeContract).toBe(1);
    // Requested → live: 1, 2, 3, 4, 5 h.
    expect(report.timeToLive.requestedToLive).toEqual({ count: 5, medianMs: hours(3), p90Ms: hours(4.6) });
    // Signed → live: 10, 11, 12 h (2 March 09:00 + 1…3 h), 4 days 13 h = 109 h (d), 0 (e): p90 is 60% of the way from 12 h to 109 h.
    expect(report.timeToLive.signedToLive).toEqual({ count: 5, medianMs: hours(11), p90Ms: hours(12 + 0.6 * 97) });
    expect(report.byPlan).toEqual([
      {
        plan: 'growth',
        live: 2,
        signedToLive: { count: 2, medianMs: hours(54.5), p90Ms: hours(98.1) },
        requestedToLive: { count: 2, medianMs: hours(4.5), p90Ms: hours(4.9) },
      },
      {
        plan: 'starter',
        live: 3,
        signedToLive: { count: 3, medianMs: hours(11), p90Ms: hours(11.8) },
        requestedToLive: { count: 3, medianMs: hours(2), p90Ms: hours(2.8) },
      },
    ]);
    expect(report.byWeek).toHaveLength(12);
    const [w10, w11] = report.byWeek.slice(-2);
    expect(w10).toMatchObject({
      week: '2026-W10',
      startsAt: at('2026-03-02T00:00:00Z'),
      live: 4,
      requestedToLive: { count: 4, medianMs: 2.5 * HOUR },
    });
    expect(w11).toMatchObject({ week: '2026-W11', live: 1, signedToLive: { count: 1, medianMs: 4 * DAY + 13 * HOUR } });
    expect(report.byWeek[0]).toEqual({
      week: '2025-W52',
      startsAt: at('2025-12-22T00:00:00Z'),
      live: 0,
      signedToLive: { count: 0 },
      requestedToLive: { count: 0 },
    });
  });

  it('step failure rates and mean time to recover per step type; the share of jobs that needed a human; approval waits', () => {
    const billing = (failures: number, recoveriesMs: number[], unrecovered = 0) => ({
      type: 'billing',
      runs: 1 + failures,
      failures,
      recoveriesMs,
      unrecovered,
    });
    const all = [
      facts({
        jobId: 'a',
        steps: [billing(1, [10 * MIN])],
        handoffs: { retry: 1, override: 0, rollback: 0, cancel: 0 },
        approvalWaitsMs: [20 * MIN],
      }),
      facts({
        jobId: 'b',
        steps: [billing(2, [30 * MIN])],
        handoffs: { retry: 2, override: 1, rollback: 0, cancel: 0 },
        planId: 'growth',
        approvalWaitsMs: [40 * MIN],
      }),
      facts({ jobId: 'c', steps: [billing(1, [], 1)], handoffs: { retry: 0, override: 0, rollback: 1, cancel: 0 } }),
      facts({ jobId: 'd', steps: [billing(0, [])], approvalWaitingSince: at('2026-03-11T08:00:00Z') }),
    ];
    const report = kpiReport(all, [], now);
    expect(report.stepTypes).toEqual([
      { type: 'billing', runs: 8, failures: 4, failureRate: 0.5, recovered: 2, meanTimeToRecoverMs: 20 * MIN, unrecovered: 1 },
    ]);
    expect(report.handoffs).toEqual({ jobs: 4, neededAHuman: 3, rate: 0.75, jobsBy: { retry: 2, override: 1, rollback: 1, cancel: 0 } });
    expect(report.approvals).toEqual({
      waits: { count: 2, medianMs: 30 * MIN, p90Ms: expect.closeTo(38 * MIN, 0) },
      byPlan: [
        { plan: 'growth', count: 1, medianMs: 40 * MIN, p90Ms: 40 * MIN },
        { plan: 'starter', count: 1, medianMs: 20 * MIN, p90Ms: 20 * MIN },
      ],
      waitingNow: 1,
      oldestWaitingSince: at('2026-03-11T08:00:00Z'),
    });
  });

  it('counts provisioning only: suspensions and plan changes, their approvals, retries and rollbacks are no deals, no time to live and no handoffs', () => {
    const provisioned = definition({
      jobId: 'acme-1',
      plan: 'starter',
      createdAt: '2026-03-02T09:00:00.000Z',
      contractStartDate: '2026-03-02',
      steps: STEPS,
    });
    const lifecycle = (jobId: string, kind: 'suspend' | 'change_plan'): JobDefinition => ({
      ...definition({
        jobId,
        plan: 'starter',
        createdAt: '2026-03-09T09:00:00.000Z',
        contractStartDate: '2026-03-02',
        steps: { approval_gate: 'approval', sign_in: 'sign_in', tenant_status: 'tenant_status' },
      }),
      kind,
    });
    const all = [
      jobFacts(provisioned, 4, [
        entry('2026-03-02T09:00:00Z', 'job.created'),
        entry('2026-03-02T09:01:00Z', 'step.succeeded', 'database'),
        entry('2026-03-02T10:00:00Z', 'job.live'),
      ]),
      // A suspension an approver agreed to after an hour, whose sign-in step was retried by hand; it ends "live" as every job does.
      jobFacts(lifecycle('acme-suspend-1', 'suspend'), 9, [
        entry('2026-03-09T09:00:00Z', 'job.created'),
        entry('2026-03-09T09:00:01Z', 'step.waiting_approval', 'approval_gate'),
        entry('2026-03-09T10:00:01Z', 'step.approved', 'approval_gate'),
        entry('2026-03-09T10:00:02Z', 'step.failed', 'sign_in'),
        entry('2026-03-09T10:05:00Z', 'step.retried', 'sign_in'),
        entry('2026-03-09T10:05:01Z', 'step.succeeded', 'sign_in'),
        entry('2026-03-09T10:05:02Z', 'job.live'),
      ]),
      // A plan change still waiting for an approver, and one rolled back.
      jobFacts(lifecycle('acme-plan-1', 'change_plan'), 3, [
        entry('2026-03-10T09:00:00Z', 'job.created'),
        entry('2026-03-10T09:00:01Z', 'step.waiting_approval', 'approval_gate'),
      ]),
      jobFacts(lifecycle('acme-plan-2', 'change_plan'), 3, [entry('2026-03-10T11:00:00Z', 'job.rollback_started')]),
    ];
    const report = kpiReport(all, [], now);
    expect(report.jobs).toBe(1);
    expect(report.timeToLive).toMatchObject({ live: 1, requestedToLive: { count: 1, medianMs: HOUR } });
    expect(report.handoffs).toEqual({ jobs: 1, neededAHuman: 0, rate: 0, jobsBy: { retry: 0, override: 0, rollback: 0, cancel: 0 } });
    expect(report.approvals).toMatchObject({ waits: { count: 0 }, waitingNow: 0 });
    expect(report.stepTypes.map((t) => t.type)).toEqual(['tenant_database']);
  });

  it('no jobs: counts of zero and no figures, never NaN', () => {
    const report = kpiReport([], [], now);
    expect(report.timeToLive).toEqual({ live: 0, liveBeforeContract: 0, signedToLive: { count: 0 }, requestedToLive: { count: 0 } });
    expect(report.handoffs).toEqual({ jobs: 0, neededAHuman: 0, jobsBy: { retry: 0, override: 0, rollback: 0, cancel: 0 } });
    expect(JSON.stringify(report)).not.toContain('NaN');
  });
});

describe('time to first value', () => {
  const liveAt = at('2026-01-10T12:00:00Z');
  const now = liveAt + 45 * DAY;
  const live = (tenantSlug: string, when: number) => ({ tenantSlug, companyName: tenantSlug, planId: 'starter', liveAt: when });
  const first = (tenantSlug: string, workflow: string, firstAt: number) => ({ tenantSlug, workflow, firstAt });

  it('counts workflows first used by day 1, 7 and 30 after going live, and the time to the first; a use before going live counts as at once', () => {
    const firsts = [
      first('acme', 'invoices', liveAt + 2 * HOUR),
      first('acme', 'approvals', liveAt + 3 * DAY),
      first('acme', 'reports', liveAt + 10 * DAY),
      first('acme', 'exports', liveAt + 40 * DAY),
      first('globex', 'invoices', liveAt - 2 * DAY),
    ];
    const report = activationReport([live('acme', liveAt), live('globex', liveAt - DAY), live('hooli', now - 5 * DAY)], firsts, now);
    expect(report.tenants.map((t) => [t.tenantSlug, t.workflowsBy, t.firstActivationMs])).toEqual([
      ['hooli', { 1: 0 }, undefined],
      ['acme', { 1: 1, 7: 2, 30: 3 }, 2 * HOUR],
      ['globex', { 1: 1, 7: 1, 30: 1 }, 0],
    ]);
    expect(report.byDay).toEqual([
      { day: 1, tenants: 3, meanWorkflows: 2 / 3 },
      { day: 7, tenants: 2, meanWorkflows: 1.5 },
      { day: 30, tenants: 2, meanWorkflows: 2 },
    ]);
    expect(report.firstActivation).toEqual({ count: 2, medianMs: HOUR, p90Ms: expect.closeTo(1.8 * HOUR, 0) });
  });

  it('a tenant counts from its latest time going live, on the KPI report', () => {
    const before = facts({ jobId: 'old', tenantSlug: 'acme', liveAt: liveAt - 20 * DAY });
    const after = facts({ jobId: 'new', tenantSlug: 'acme', liveAt });
    const report = kpiReport([before, after], [first('acme', 'invoices', liveAt + HOUR)], now);
    expect(report.activation.tenants).toHaveLength(1);
    expect(report.activation.tenants[0]).toMatchObject({ tenantSlug: 'acme', liveAt, firstActivationMs: HOUR });
  });
});

describe('an activation event as the product posts it', () => {
  const now = new Date('2026-03-11T12:00:00Z');

  it('takes id and workflow, and when it happened (default: when it arrived)', () => {
    expect(parseActivationEvent({ id: 'evt-1', workflow: 'invoices' }, now)).toEqual({
      ok: true,
      event: { id: 'evt-1', workflow: 'invoices', at: now },
    });
    expect(parseActivationEvent({ id: 'evt-2', workflow: 'invoices', at: '2026-03-11T10:00:00+01:00' }, now)).toEqual({
      ok: true,
      event: { id: 'evt-2', workflow: 'invoices', at: new Date('2026-03-11T09:00:00Z') },
    });
  });

  it('names every field that is wrong', () => {
    const problems = (raw: unknown) => {
      const parsed = parseActivationEvent(raw, now);
      return parsed.ok ? [] : parsed.problems.map((p) => p.field);
    };
    expect(problems({})).toEqual(['id', 'workflow']);
    expect(problems({ id: '', workflow: 'x\u001b[2J', at: 'yesterday' })).toEqual(['id', 'workflow', 'at']);
    expect(problems({ id: 'a', workflow: 'b', at: '2026-03-11T13:00:00Z' })).toEqual(['at']);
    expect(problems({ id: 'a', workflow: 'b', tenant: 'acme' })).toEqual(['tenant']);
    expect(problems([1, 2])).toEqual(['body']);
  });
});
