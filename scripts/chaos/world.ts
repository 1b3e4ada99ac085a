/**
 * Everything a chaos run provisions against, started for the run and stopped
 * after it: its own Redis and FerretDB (restartable), the Stripe/Okta/SMTP/
 * webhook emulators and a proxy in front of moto, all with injected latency,
 * and an app that only submits and approves (the worker processes do the
 * work). Tenant resources are namespaced by the run id, as in the tests.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { compose, type App } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';
import type { Latency } from '../../src/emulators/latency.ts';
import { startLocalEmulators, type LocalEmulators } from '../../src/emulators/emulators.ts';
import type { TestApp } from '../../test/support/harness.ts';
import { startRoute53PendingProxy, type Route53PendingProxy } from '../../test/support/route53-pending-proxy.ts';
import { startStoreServers, type StoreServers } from './servers.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export type World = {
  run: string;
  servers: StoreServers;
  emulators: LocalEmulators;
  proxy: Route53PendingProxy;
  /** What a worker process needs on top of this process's environment. */
  workerEnv: Record<string, string>;
  app: App;
  /** Reads every system straight (AWS without the proxy's latency), for the inventory. */
  inspector(): TestApp;
  /**
   * A new client of the store, for checking the record after the chaos: the app's own client
   * may not have survived the store's restart, and the checks must not depend on it.
   */
  freshStore(): Promise<MongoClient>;
  close(): Promise<void>;
};

export async function startWorld(opts: { latency: Latency; onError(err: unknown): void }): Promise<World> {
  const moto = process.env['AWS_ENDPOINT_URL'];
  if (!moto) throw new Error('AWS_ENDPOINT_URL is not set: run this through scripts/with-services.ts (npm run chaos), which starts moto');
  const run = randomBytes(2).toString('hex');
  const servers = await startStoreServers();
  const repo = { MANIFESTS_DIR: resolve(ROOT, 'manifests'), SEED_MANIFESTS_DIR: resolve(ROOT, 'seed-manifests') };
  const emulators = await startLocalEmulators(loadConfig(repo), undefined, opts.latency);
  // Route 53 answers PENDING twice per change, as it does while its name servers catch up: the DNS step polls.
  const proxy = await startRoute53PendingProxy({ target: moto, pendingPolls: 2, latency: opts.latency });
  const prefix = `ch${run}`;
  const dbName = `chaos_${run}`;
  const env: Record<string, string> = {
    ...repo,
    ...emulators.env,
    REDIS_URL: servers.redisUrl,
    MONGODB_URI: servers.mongoUri,
    AWS_ENDPOINT_URL: proxy.url,
    QUEUE_PREFIX: prefix,
    MONGODB_DB: dbName,
    BASE_DOMAIN: `${run}.chaos.test`,
    SECRET_PREFIX: `ch${run}/tenants`,
    SHARED_DATABASE: `chaos_shared_${run}`,
    TENANT_BUCKET_PREFIX: `ch${run}`,
    WORKER_CONCURRENCY: '20',
  };
  const app = await compose(loadConfig({ ...process.env, ...env }), { runWorkers: false, onError: opts.onError });
  const direct = loadConfig({ ...process.env, ...env, AWS_ENDPOINT_URL: moto });
  return {
    run,
    servers,
    emulators,
    proxy,
    workerEnv: env,
    app,
    freshStore: () => new MongoClient(servers.mongoUri, { serverSelectionTimeoutMS: 30_000 }).connect(),
    inspector: () => ({ ...app, config: direct, prefix, dbName, emulators, env }),
    async close() {
      await app.close().catch(opts.onError);
      await proxy.close();
      await emulators.close();
      await servers.stop();
    },
  };
}
