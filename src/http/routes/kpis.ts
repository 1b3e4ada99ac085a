/**
 * /admin/kpis and each KPI's CSV (/admin/kpis/<name>.csv), for anyone signed
 * in whom the policy lets see them. The figures come from KpiService.report,
 * which only aggregates facts held in memory: the page never reads the audit.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { KpiService } from '../../app/kpis.ts';
import { NotAllowedError } from '../../domain/errors.ts';
import { headlines } from '../../domain/kpi-words.ts';
import { viewerOf, type SignedInCheck } from '../auth/signed-in.ts';
import { tableCsv } from '../pages/csv.ts';
import { kpiTables } from '../pages/kpi-tables.ts';
import { kpisPage } from '../pages/kpis-page.ts';
import { messagePage } from '../pages/sign-in-page.ts';
import { sendPage } from './html.ts';

export type KpiRouteDeps = { kpis: KpiService; signedIn: SignedInCheck };

export const kpiRoutes: FastifyPluginAsync<KpiRouteDeps> = async (server, deps) => {
  const { signedIn } = deps;
  const refused = (err: unknown): string => {
    if (err instanceof NotAllowedError) return messagePage('Not allowed', err.message, { href: '/admin', label: 'All jobs' }).text;
    throw err;
  };

  server.get('/admin/kpis', async (request, reply) => {
    const me = await signedIn(request, reply);
    if (!me) return reply;
    try {
      const report = await deps.kpis.report(me.who);
      const page = kpisPage({
        viewer: viewerOf(me),
        at: report.at,
        jobs: report.jobs,
        headlines: headlines(report),
        tables: kpiTables(report),
      });
      return sendPage(reply, 200, page.text);
    } catch (err) {
      return sendPage(reply, 403, refused(err));
    }
  });

  server.get<{ Params: { file: string } }>('/admin/kpis/:file', async (request, reply) => {
    const me = await signedIn(request, reply);
    if (!me) return reply;
    const name = request.params.file.replace(/\.csv$/, '');
    let report: Awaited<ReturnType<KpiService['report']>>;
    try {
      report = await deps.kpis.report(me.who);
    } catch (err) {
      return sendPage(reply, 403, refused(err));
    }
    const table = request.params.file.endsWith('.csv') ? kpiTables(report).find((t) => t.name === name) : undefined;
    if (!table)
      return sendPage(
        reply,
        404,
        messagePage('No such download', 'That is not one of the KPI downloads.', { href: '/admin/kpis', label: 'KPIs' }).text,
      );
    const day = new Date(report.at).toISOString().slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="kpi-${table.name}-${day}.csv"`)
      .header('cache-control', 'no-store')
      .send(tableCsv(table));
  });
};
