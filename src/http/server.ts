/**
 * The one HTTP server. Routes are thin and grouped by caller, each group a
 * Fastify plugin: today health (load balancers, orchestrators) and metrics
 * (Prometheus); later issues register their groups (slack, admin, status,
 * api/v1, webhooks) on the instance this returns, before it listens.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ConfigError } from '../config.ts';
import type { MetricsExposition } from '../ports/metrics.ts';
import { healthRoutes, type HealthCheck } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { OUTBOUND_MESSAGES_PATH } from './routes/webhooks/salesforce/route.ts';

export type HttpServerDeps = {
  health: HealthCheck;
  metrics: MetricsExposition;
  /** Fastify logs requests and server errors here. */
  logger?: FastifyBaseLogger;
};

/** Probes and scrapes come every few seconds: logging each would drown the lines that matter. */
const UNLOGGED = new Set(['/healthz', '/metrics']);

/** Not logged as Fastify would log it: the path holds a secret (the Salesforce endpoint's; its route logs what matters). */
function unlogged(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return UNLOGGED.has(path) || path.startsWith(`${OUTBOUND_MESSAGES_PATH}/`);
}

export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const server = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : {}),
    // Live pages hold their event streams open: closing the server must end them, not wait for them.
    forceCloseConnections: true,
    logController: new LogController({ disableRequestLogging: (request) => unlogged(request.url) }),
  });
  server.register(healthRoutes, { health: deps.health });
  server.register(metricsRoutes, { metrics: deps.metrics });
  return server;
}

/**
 * Starts listening; resolves with the port (useful with port 0). A port in
 * use is a configuration problem, named by the variable that set it.
 */
export async function listen(server: FastifyInstance, at: { host: string; port: number; variable: string }): Promise<number> {
  try {
    await server.listen({ host: at.host, port: at.port });
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'EADDRINUSE') {
      throw new ConfigError(`${at.variable}: port ${at.port} is already in use; set ${at.variable} to a free port`);
    }
    throw err;
  }
  const address = server.server.address();
  return address !== null && typeof address === 'object' ? address.port : at.port;
}
