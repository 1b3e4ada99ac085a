/**
 * A load balancer asks each provisioner process GET /healthz. It hears 200
 * only while Redis and the store both answer; a process whose Redis is gone
 * says so with a 503 at once, instead of hanging the probe.
 */
import { createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { PROBE_TIMEOUT_MS } from '../../src/app/health.ts';
import { appPerTest, startTestApp, type TestApp } from '../support/harness.ts';
import { httpServerPerTest } from '../support/http.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(sandbox('database'));

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

/** An app whose Redis is unreachable cannot be cleaned up through Redis: close it and drop its database. */
async function stopUnreachable(app: TestApp): Promise<void> {
  await app.close();
  const mongo = new MongoClient(app.config.mongoUri);
  await mongo.db(app.dbName).dropDatabase();
  await mongo.close();
}

describe('GET /healthz', () => {
  const startApp = appPerTest();
  const serve = httpServerPerTest();

  it('answers 200 with each dependency up when Redis and the store answer', async () => {
    const app = await startApp({ pipeline: PIPELINE });
    const url = await serve(app);
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ ok: true, redis: 'up', store: 'up' });
  });

  it('answers 503 naming Redis, quickly, when the app cannot reach Redis', async () => {
    const errors: unknown[] = [];
    const port = await closedPort();
    const app = await startTestApp({
      pipeline: PIPELINE,
      runWorkers: false,
      env: { REDIS_URL: `redis://127.0.0.1:${port}` },
      onError: (err) => errors.push(err),
    });
    try {
      const url = await serve(app);
      for (let check = 0; check < 3; check++) {
        const asked = Date.now();
        const response = await fetch(`${url}/healthz`);
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ ok: false, redis: 'down', store: 'up' });
        expect(Date.now() - asked).toBeLessThan(PROBE_TIMEOUT_MS + 500);
      }
      // The engine reported its lost connection through onError rather than the console.
      expect(errors.some((e) => e instanceof Error && e.message.includes('ECONNREFUSED'))).toBe(true);
    } finally {
      await stopUnreachable(app);
    }
  });
});
