/** The pages' stylesheets and scripts, and Chart.js from its package: small, cached for an hour, never user data. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

const HERE = join(import.meta.dirname, '..', 'assets');
const require = createRequire(import.meta.url);

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  'admin.css': { file: join(HERE, 'admin.css'), type: 'text/css; charset=utf-8' },
  'admin.js': { file: join(HERE, 'admin.js'), type: 'text/javascript; charset=utf-8' },
  'kpis.js': { file: join(HERE, 'kpis.js'), type: 'text/javascript; charset=utf-8' },
  'status.css': { file: join(HERE, 'status.css'), type: 'text/css; charset=utf-8' },
  'status.js': { file: join(HERE, 'status.js'), type: 'text/javascript; charset=utf-8' },
  // The package exports only its modules; its browser bundle sits beside the CommonJS entry.
  'chart.umd.min.js': { file: join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

export const assetRoutes: FastifyPluginAsync = async (server) => {
  const loaded = new Map(Object.entries(ASSETS).map(([name, a]) => [name, { body: readFileSync(a.file), type: a.type }]));
  server.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = loaded.get(request.params.name);
    if (!asset) return reply.code(404).type('text/plain').send('Not found');
    return reply.type(asset.type).header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').send(asset.body);
  });
};
