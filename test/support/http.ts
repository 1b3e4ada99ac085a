/** The app's HTTP server (health and metrics) on a free loopback port, closed after the test. */
import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import type { App } from '../../src/compose.ts';
import { createHttpServer, listen } from '../../src/http/server.ts';

export function httpServerPerTest(): (app: Pick<App, 'health' | 'metrics' | 'logger'>) => Promise<string> {
  const servers: FastifyInstance[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  return async (app) => {
    const server = createHttpServer({ health: app.health, metrics: app.metrics, logger: app.logger });
    servers.push(server);
    const port = await listen(server, { host: '127.0.0.1', port: 0, variable: 'HTTP_PORT' });
    return `http://127.0.0.1:${port}`;
  };
}
