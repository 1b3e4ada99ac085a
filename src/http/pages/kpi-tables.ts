/**
 * Each KPI on the admin page as one table and one chart drawn from the same
 * report: the page shows the table beside the chart (readable without
 * JavaScript, and by screen readers), the CSV download is the same table with
 * raw numbers (durations in seconds, shares from 0 to 1).
 */
import { ACTIVATION_DAYS } from '../../domain/activation.ts';
import { HANDOFF_KINDS, type HandoffKind } from '../../domain/kpi-facts.ts';
import type { Spread } from '../../domain/kpi-maths.ts';
import type { KpiReport, TimeToLive } from '../../domain/kpis.ts';

export type ColumnKind = 'text' | 'count' | 'duration' | 'share' | 'time';
export type Column = { label: string; kind: ColumnKind };
/** Text, a count, a duration or time in ms, a share 0–1; undefined when there is nothing to say. */
export type Cell = string | number | undefined;

/** A series of the chart: a column of the table, against the first column. */
export type Series = { column: number; axis?: 'left' | 'right' };
export type ChartSpec = { type: 'bar' | 'line'; series: Series[]; horizontal?: boolean };

export type KpiTable = {
  name: string;
  title: string;
  /** What the figures mean, in a sentence or two. */
  about: string;
  notes: string[];
  columns: Column[];
  rows: Cell[][];
  chart: ChartSpec;
  /** Rows on the page when the CSV holds more (the newest first). */
  pageRows?: number;
};

const DURATIONS = (what: string): Column[] => [
  { label: `${what} median`, kind: 'duration' },
  { label: `${what} p90`, kind: 'duration' },
];

const spread = (s: Spread): Cell[] => [s.medianMs, s.p90Ms];
const timeToLiveCells = (t: TimeToLive): Cell[] => [t.live, ...spread(t.signedToLive), ...spread(t.requestedToLive)];
const TIME_TO_LIVE_COLUMNS: Column[] = [{ label: 'Tenants live', kind: 'count' }, ...DURATIONS('Signed → live'), ...DURATIONS('Requested → live')];
const TIME_TO_LIVE_SERIES: Series[] = [{ column: 2 }, { column: 3 }, { column: 4 }, { column: 5 }];

const HANDOFF_WORDS: Readonly<Record<HandoffKind, string>> = {
  retry: 'A step retried',
  override: 'A step overridden',
  rollback: 'Rolled back',
  cancel: 'Cancelled',
};

function timeToLiveTables(report: KpiReport): KpiTable[] {
  const early = report.timeToLive.liveBeforeContract;
  const notes =
    early > 0
      ? [
          `${early} tenant${early === 1 ? '' : 's'} went live before the contract start date; signed → live counts ${early === 1 ? 'it' : 'them'} as 0.`,
        ]
      : [];
  const about =
    'From the contract start date (00:00 UTC) and from the request to the tenant going live: median and 90th percentile over the tenants that went live.';
  return [
    {
      name: 'time-to-live-by-plan',
      title: 'Time to live, by plan',
      about,
      notes,
      columns: [{ label: 'Plan', kind: 'text' }, ...TIME_TO_LIVE_COLUMNS],
      rows: report.byPlan.map((p) => [p.plan, ...timeToLiveCells(p)]),
      chart: { type: 'bar', series: TIME_TO_LIVE_SERIES },
    },
    {
      name: 'time-to-live-by-week',
      title: 'Time to live, by week',
      about: `The same, by the ISO week (UTC) the tenants went live in, for the last ${report.byWeek.length} weeks.`,
      notes,
      columns: [{ label: 'Week', kind: 'text' }, { label: 'Starts', kind: 'time' }, ...TIME_TO_LIVE_COLUMNS],
      rows: report.byWeek.map((w) => [w.week, w.startsAt, ...timeToLiveCells(w)]),
      chart: { type: 'line', series: TIME_TO_LIVE_SERIES.map((s) => ({ column: s.column + 1 })) },
    },
  ];
}

function stepFailures(report: KpiReport): KpiTable {
  return {
    name: 'step-failures',
    title: 'Step failures and recovery, by step type',
    about:
      'Failure rate: failed runs ÷ runs that ended (automatic retries inside a run are not counted). Mean time to recover: from a step failing to it next succeeding or being overridden.',
    notes: [],
    columns: [
      { label: 'Step type', kind: 'text' },
      { label: 'Runs', kind: 'count' },
      { label: 'Failed', kind: 'count' },
      { label: 'Failure rate', kind: 'share' },
      { label: 'Mean time to recover', kind: 'duration' },
      { label: 'Recovered', kind: 'count' },
      { label: 'Not recovered', kind: 'count' },
    ],
    rows: report.stepTypes.map((s) => [s.type, s.runs, s.failures, s.failureRate, s.meanTimeToRecoverMs, s.recovered, s.unrecovered]),
    chart: { type: 'bar', series: [{ column: 3 }, { column: 4, axis: 'right' }] },
  };
}

function handoffs(report: KpiReport): KpiTable {
  const h = report.handoffs;
  const share = (n: number) => (h.jobs === 0 ? undefined : n / h.jobs);
  return {
    name: 'handoffs',
    title: 'Jobs that needed a person',
    about: 'The share of all jobs someone had to retry, override, roll back or cancel (a job can need more than one).',
    notes: [],
    columns: [
      { label: 'What people did', kind: 'text' },
      { label: 'Jobs', kind: 'count' },
      { label: 'Share of jobs', kind: 'share' },
    ],
    rows: [
      ['Any of these', h.neededAHuman, h.rate],
      ...HANDOFF_KINDS.map((k): Cell[] => [HANDOFF_WORDS[k], h.jobsBy[k], share(h.jobsBy[k])]),
      ['Nothing: went through by itself', h.jobs - h.neededAHuman, share(h.jobs - h.neededAHuman)],
    ],
    chart: { type: 'bar', series: [{ column: 2 }], horizontal: true },
  };
}

function approvalWait(report: KpiReport): KpiTable {
  const a = report.approvals;
  return {
    name: 'approval-wait',
    title: 'Approval waiting time, by plan',
    about: 'From a job asking for approval to an approver approving or rejecting it.',
    notes: a.waitingNow > 0 ? [`${a.waitingNow} approval${a.waitingNow === 1 ? ' is' : 's are'} waiting now.`] : [],
    columns: [{ label: 'Plan', kind: 'text' }, { label: 'Approvals', kind: 'count' }, ...DURATIONS('Wait')],
    rows: [...a.byPlan.map((p): Cell[] => [p.plan, p.count, ...spread(p)]), ['All plans', a.waits.count, ...spread(a.waits)]],
    chart: { type: 'bar', series: [{ column: 2 }, { column: 3 }] },
  };
}

/** Tenants in the chart and on the page; the CSV has them all. */
const TENANTS_SHOWN = 25;

function activation(report: KpiReport): KpiTable[] {
  const r = report.activation;
  return [
    {
      name: 'activation-by-day',
      title: 'Workflows in use after going live',
      about: 'Mean number of workflows a tenant’s people had used by day 1, 7 and 30 after the tenant went live, over the tenants live that long.',
      notes: r.byDay.every((d) => d.tenants === 0) ? ['No tenant has been live for a whole day yet.'] : [],
      columns: [
        { label: 'After', kind: 'text' },
        { label: 'Tenants live that long', kind: 'count' },
        { label: 'Mean workflows in use', kind: 'count' },
      ],
      rows: r.byDay.map((d) => [`Day ${d.day}`, d.tenants, d.meanWorkflows === undefined ? undefined : Math.round(d.meanWorkflows * 100) / 100]),
      chart: { type: 'bar', series: [{ column: 2 }] },
    },
    {
      name: 'activation-by-tenant',
      title: 'Time to first value, by tenant',
      about:
        'For each live tenant, newest first: workflows used by day 1, 7 and 30 (blank until that day has come) and how long after going live the first was used.',
      notes: r.tenants.length > TENANTS_SHOWN ? [`The newest ${TENANTS_SHOWN} of ${r.tenants.length} tenants; the CSV has them all.`] : [],
      columns: [
        { label: 'Tenant', kind: 'text' },
        { label: 'Slug', kind: 'text' },
        { label: 'Plan', kind: 'text' },
        { label: 'Live since', kind: 'time' },
        ...ACTIVATION_DAYS.map((d): Column => ({ label: `Day ${d}`, kind: 'count' })),
        { label: 'First workflow used after', kind: 'duration' },
      ],
      rows: r.tenants.map((t) => [
        t.companyName,
        t.tenantSlug,
        t.planId,
        t.liveAt,
        ...ACTIVATION_DAYS.map((d) => t.workflowsBy[d]),
        t.firstActivationMs,
      ]),
      chart: { type: 'bar', series: [{ column: 7 }], horizontal: true },
      pageRows: TENANTS_SHOWN,
    },
  ];
}

export function kpiTables(report: KpiReport): KpiTable[] {
  return [...timeToLiveTables(report), stepFailures(report), handoffs(report), approvalWait(report), ...activation(report)];
}
