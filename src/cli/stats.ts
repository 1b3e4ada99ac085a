/** `provisioner stats`: the same KPIs as `/provision stats`, as lines for a terminal. */
import { headlineFigure, headlines, spanWords } from '../domain/kpi-words.ts';
import type { KpiReport } from '../domain/kpis.ts';

const spread = (s: { medianMs?: number; p90Ms?: number }) =>
  s.medianMs === undefined ? '—' : `${spanWords(s.medianMs)} (p90 ${spanWords(s.p90Ms ?? s.medianMs)})`;

export function statsText(report: KpiReport): string[] {
  const figures = headlines(report);
  const width = Math.max(...figures.map((h) => h.label.length));
  const lines = [
    `Signed-to-live KPIs over ${report.jobs} job${report.jobs === 1 ? '' : 's'} (as of ${new Date(report.at).toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
  ];
  for (const h of figures) lines.push(`  ${h.label.padEnd(width)}  ${headlineFigure(h)}`, `  ${''.padEnd(width)}  ${h.detail}`);
  if (report.byPlan.length > 0) {
    lines.push('', 'By plan: signed → live · requested → live (median, p90)');
    for (const p of report.byPlan) lines.push(`  ${p.plan}: ${spread(p.signedToLive)} · ${spread(p.requestedToLive)} over ${p.live} live`);
  }
  if (report.stepTypes.length > 0) {
    lines.push('', 'Step types: runs, failed, mean time to recover');
    for (const s of report.stepTypes) {
      const mttr = s.meanTimeToRecoverMs === undefined ? '' : `, recovered in ${spanWords(s.meanTimeToRecoverMs)} on average`;
      lines.push(`  ${s.type}: ${s.runs} runs, ${s.failures} failed${mttr}${s.unrecovered > 0 ? `, ${s.unrecovered} not recovered` : ''}`);
    }
  }
  return lines;
}
