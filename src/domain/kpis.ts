/**
 * The signed-to-live KPIs, aggregated from the facts of every job (kpi-facts.ts)
 * and the tenants' first activations (activation.ts):
 *
 * - Signed → live: from the contract start date (00:00 UTC) to the tenant going
 *   live. A tenant live before its contract starts counts as 0, and how many
 *   did is said beside the figure. Requested → live: from the job being asked
 *   for to the tenant going live. Median and p90 over the jobs that went live,
 *   overall, by plan and by the ISO week they went live in.
 * - Step failure rate per step type: failed runs ÷ runs that ended (succeeded
 *   or failed). Mean time to recover: from a step failing to it next
 *   succeeding or being overridden.
 * - Handoff failure rate: the share of all jobs someone had to retry,
 *   override, roll back or cancel.
 * - Approval waiting time: from a step asking for approval to its approval or
 *   rejection; approvals still waiting are counted apart.
 *
 * Every figure counts provisioning jobs only: a suspension, a plan change or a
 * decommissioning is no deal, never takes a tenant live, and its approvals,
 * retries and rollbacks are not the signed-to-live handoffs.
 */
import { activationReport, type ActivationReport, type FirstActivation, type LiveTenant } from './activation.ts';
import { HANDOFF_KINDS, neededAHuman, type HandoffKind, type JobFacts } from './kpi-facts.ts';
import { isoWeek, lastWeeks, mean, spreadOf, weekStart, type Spread } from './kpi-maths.ts';

export type TimeToLive = { live: number; signedToLive: Spread; requestedToLive: Spread };

export type StepTypeFigures = {
  type: string;
  runs: number;
  failures: number;
  /** failures ÷ runs (0–1). */
  failureRate: number;
  recovered: number;
  meanTimeToRecoverMs?: number;
  unrecovered: number;
};

export type KpiReport = {
  /** When these figures were worked out (epoch ms). */
  at: number;
  jobs: number;
  timeToLive: TimeToLive & { liveBeforeContract: number };
  byPlan: (TimeToLive & { plan: string })[];
  /** The last weeks, oldest first, each by the week its tenants went live in (weeks with none included). */
  byWeek: (TimeToLive & { week: string; startsAt: number })[];
  stepTypes: StepTypeFigures[];
  handoffs: { jobs: number; neededAHuman: number; rate?: number; jobsBy: Record<HandoffKind, number> };
  approvals: { waits: Spread; byPlan: (Spread & { plan: string })[]; waitingNow: number; oldestWaitingSince?: number };
  activation: ActivationReport;
};

export const WEEKS_SHOWN = 12;

function timeToLive(facts: readonly JobFacts[]): TimeToLive {
  const live = facts.filter((f): f is JobFacts & { liveAt: number } => f.liveAt !== undefined);
  return {
    live: live.length,
    signedToLive: spreadOf(live.map((f) => Math.max(0, f.liveAt - f.signedAt))),
    requestedToLive: spreadOf(live.map((f) => Math.max(0, f.liveAt - f.requestedAt))),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function byPlan(facts: readonly JobFacts[]): KpiReport['byPlan'] {
  return [...groupBy(facts, (f) => f.planId).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([plan, group]) => ({ plan, ...timeToLive(group) }));
}

function byWeek(facts: readonly JobFacts[], now: number): KpiReport['byWeek'] {
  const live = groupBy(
    facts.filter((f) => f.liveAt !== undefined),
    (f) => String(weekStart(f.liveAt ?? 0)),
  );
  return lastWeeks(now, WEEKS_SHOWN).map((startsAt) => ({ week: isoWeek(startsAt), startsAt, ...timeToLive(live.get(String(startsAt)) ?? []) }));
}

function stepTypes(facts: readonly JobFacts[]): StepTypeFigures[] {
  const all = groupBy(
    facts.flatMap((f) => f.steps),
    (s) => s.type,
  );
  return [...all.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([type, steps]) => {
      const runs = steps.reduce((n, s) => n + s.runs, 0);
      const failures = steps.reduce((n, s) => n + s.failures, 0);
      const recoveries = steps.flatMap((s) => s.recoveriesMs);
      const mttr = mean(recoveries);
      return {
        type,
        runs,
        failures,
        failureRate: runs === 0 ? 0 : failures / runs,
        recovered: recoveries.length,
        ...(mttr === undefined ? {} : { meanTimeToRecoverMs: mttr }),
        unrecovered: steps.reduce((n, s) => n + s.unrecovered, 0),
      };
    });
}

function handoffs(facts: readonly JobFacts[]): KpiReport['handoffs'] {
  const needed = facts.filter(neededAHuman).length;
  const jobsBy = Object.fromEntries(HANDOFF_KINDS.map((k) => [k, facts.filter((f) => f.handoffs[k] > 0).length]));
  return {
    jobs: facts.length,
    neededAHuman: needed,
    ...(facts.length === 0 ? {} : { rate: needed / facts.length }),
    jobsBy: { retry: jobsBy['retry'] ?? 0, override: jobsBy['override'] ?? 0, rollback: jobsBy['rollback'] ?? 0, cancel: jobsBy['cancel'] ?? 0 },
  };
}

function approvals(facts: readonly JobFacts[]): KpiReport['approvals'] {
  const waiting = facts.flatMap((f) => (f.approvalWaitingSince === undefined ? [] : [f.approvalWaitingSince]));
  const plans = [...groupBy(facts, (f) => f.planId).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    waits: spreadOf(facts.flatMap((f) => f.approvalWaitsMs)),
    byPlan: plans.map(([plan, group]) => ({ plan, ...spreadOf(group.flatMap((f) => f.approvalWaitsMs)) })).filter((p) => p.count > 0),
    waitingNow: waiting.length,
    ...(waiting.length === 0 ? {} : { oldestWaitingSince: Math.min(...waiting) }),
  };
}

/** Each tenant's most recent time going live (a tenant rolled back and provisioned again counts from the second). */
function liveTenants(facts: readonly JobFacts[]): LiveTenant[] {
  const latest = new Map<string, LiveTenant>();
  for (const f of facts) {
    if (f.liveAt === undefined) continue;
    const known = latest.get(f.tenantSlug);
    if (!known || known.liveAt < f.liveAt) {
      latest.set(f.tenantSlug, { tenantSlug: f.tenantSlug, companyName: f.companyName, planId: f.planId, liveAt: f.liveAt });
    }
  }
  return [...latest.values()];
}

export function kpiReport(allJobs: readonly JobFacts[], firsts: readonly FirstActivation[], now: number): KpiReport {
  const facts = allJobs.filter((f) => f.kind === 'provision');
  return {
    at: now,
    jobs: facts.length,
    timeToLive: { ...timeToLive(facts), liveBeforeContract: facts.filter((f) => f.liveAt !== undefined && f.liveAt < f.signedAt).length },
    byPlan: byPlan(facts),
    byWeek: byWeek(facts, now),
    stepTypes: stepTypes(facts),
    handoffs: handoffs(facts),
    approvals: approvals(facts),
    activation: activationReport(liveTenants(facts), firsts, now),
  };
}
