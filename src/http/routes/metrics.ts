/** GET /metrics: the Prometheus text exposition of this process's metrics. */
import type { FastifyPluginAsync } from 'fastify';
import type { MetricsExposition } from '../../ports/metrics.ts';

export const metricsRoutes: FastifyPluginAsync<{ metrics: MetricsExposition }> = async (server, { metrics }) => {
  server.get('/metrics', async (_request, reply) => {
    const text = await metrics.render();
    reply.header('content-type', metrics.contentType).header('cache-control', 'no-store');
    return text;
  });
};
