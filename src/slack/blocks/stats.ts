/**
 * `/provision stats`: the KPIs in a compact private message — the headline
 * figures as fields, then signed → live by plan in one line, and where the
 * charts and downloads are.
 */
import type { SectionBlock } from '@slack/types';
import { headlineFigure, headlines, spanWords } from '../../domain/kpi-words.ts';
import type { KpiReport } from '../../domain/kpis.ts';
import { context, message, mrkdwn, section, type SlackMessage } from './elements.ts';
import { escapeMrkdwn, LIMITS, literal } from './text.ts';

export function statsBlocks(report: KpiReport, opts: { pageUrl?: string } = {}): SlackMessage {
  const figures = headlines(report);
  const fields: SectionBlock = {
    type: 'section',
    fields: figures
      .slice(0, LIMITS.sectionFields)
      .map((h) => mrkdwn(`*${escapeMrkdwn(h.label)}*\n${escapeMrkdwn(headlineFigure(h))}\n_${escapeMrkdwn(h.detail)}_`)),
  };
  const byPlan = report.byPlan
    .filter((p) => p.signedToLive.medianMs !== undefined)
    .map((p) => `${literal(p.plan)} ${spanWords(p.signedToLive.medianMs ?? 0)}`);
  const where = opts.pageUrl
    ? `Charts, tables and CSVs: <${opts.pageUrl}|KPIs in the control room>`
    : 'Charts, tables and CSVs: the KPIs page of the control room';
  const [signed, , handoffs] = figures;
  const fallback = `Signed-to-live KPIs: signed → live ${signed ? headlineFigure(signed) : '—'}; needed a person ${handoffs?.figure ?? '—'}`;
  return message(fallback, [
    section(`:bar_chart: *Signed-to-live KPIs* over ${report.jobs} job${report.jobs === 1 ? '' : 's'}`),
    fields,
    ...(byPlan.length > 0 ? [context(`Signed → live median by plan: ${byPlan.join(' · ')}`)] : []),
    context(where),
  ]);
}
