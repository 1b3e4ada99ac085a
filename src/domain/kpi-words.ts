/**
 * The KPIs in words, the same on the admin page, in Slack and in the
 * terminal: durations from milliseconds to days, shares as percentages, and
 * the headline figures each door shows first.
 */
import type { Spread } from './kpi-maths.ts';
import type { KpiReport } from './kpis.ts';

/** "850 ms", "12 s", "3 min 20 s", "2 h 5 min", "3 d 4 h". */
export function spanWords(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/** 0.125 → "12.5%", 0.25 → "25%". */
export function shareWords(share: number): string {
  return `${String(Math.round(share * 1000) / 10)}%`;
}

/** One headline figure: the median (or share), its 90th percentile when it has one, and what it is over. */
export type Headline = { key: string; label: string; figure: string; p90?: string; detail: string };

/** A spread as a headline's figure and p90. */
function spreadFigure(spread: Spread): Pick<Headline, 'figure' | 'p90'> {
  if (spread.medianMs === undefined) return { figure: '—' };
  return { figure: spanWords(spread.medianMs), ...(spread.p90Ms === undefined ? {} : { p90: spanWords(spread.p90Ms) }) };
}

/** "3 h 5 min (p90 9 h)": a headline's figure in one line, as Slack and the terminal show it. */
export function headlineFigure(h: Pick<Headline, 'figure' | 'p90'>): string {
  return h.p90 === undefined ? h.figure : `${h.figure} (p90 ${h.p90})`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The figures every door shows first, in this order. */
export function headlines(report: KpiReport): Headline[] {
  const t = report.timeToLive;
  const runs = report.stepTypes.reduce((n, s) => n + s.runs, 0);
  const failures = report.stepTypes.reduce((n, s) => n + s.failures, 0);
  const worst = [...report.stepTypes].filter((s) => s.failures > 0).sort((a, b) => b.failureRate - a.failureRate)[0];
  const a = report.approvals;
  const first = report.activation.firstActivation;
  const n = t.liveBeforeContract;
  const early = n > 0 ? `; ${plural(n, 'tenant')} live before ${n === 1 ? 'its contract start counts' : 'their contract start count'} as 0` : '';
  return [
    {
      key: 'signed-to-live',
      label: 'Contract signed → live',
      ...spreadFigure(t.signedToLive),
      detail: `median over ${plural(t.live, 'tenant')} live${early}`,
    },
    {
      key: 'requested-to-live',
      label: 'Requested → live',
      ...spreadFigure(t.requestedToLive),
      detail: `median over ${plural(t.live, 'tenant')} live`,
    },
    {
      key: 'handoffs',
      label: 'Needed a person',
      figure: report.handoffs.rate === undefined ? '—' : shareWords(report.handoffs.rate),
      detail: `${report.handoffs.neededAHuman} of ${plural(report.handoffs.jobs, 'job')} retried, overridden, rolled back or cancelled`,
    },
    {
      key: 'step-failures',
      label: 'Step failure rate',
      figure: runs === 0 ? '—' : shareWords(failures / runs),
      detail: `${failures} of ${plural(runs, 'step run')} failed${worst ? `; most often ${worst.type} (${shareWords(worst.failureRate)})` : ''}`,
    },
    {
      key: 'approval-wait',
      label: 'Approval wait',
      ...spreadFigure(a.waits),
      detail: `median over ${plural(a.waits.count, 'approval')}; ${a.waitingNow} waiting now`,
    },
    {
      key: 'first-activation',
      label: 'Live → first workflow used',
      ...spreadFigure(first),
      detail: `median over ${plural(first.count, 'tenant')} that used one, of ${report.activation.tenants.length} live`,
    },
  ];
}
