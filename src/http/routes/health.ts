/**
 * GET /healthz: 200 when every dependency answers, 503 naming the ones that
 * do not. Only names go out (the reasons, which hold addresses, stay in the log).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { HealthReport } from '../../ports/health.ts';

export type HealthCheck = { check(): Promise<HealthReport> };

export const healthRoutes: FastifyPluginAsync<{ health: HealthCheck }> = async (server, { health }) => {
  server.get('/healthz', async (_request, reply) => {
    const report = await health.check();
    reply.code(report.ok ? 200 : 503).header('cache-control', 'no-store');
    return { ok: report.ok, ...report.components };
  });
};
