/**
 * The composition root: the one place that builds real clients and plugs
 * them into the ports. The CLI, the tests and the benchmark start here.
 */
import { MongoClient } from 'mongodb';
import { ProvisioningService } from './app/services.ts';
import type { Config } from './config.ts';
import { MongoJobStore } from './adapters/mongo-store.ts';
import { RedisSandboxLedger } from './adapters/sandbox-ledger.ts';
import { Engine } from './engine/engine.ts';
import { loadManifests, type Manifests } from './manifests/load.ts';
import type { JobNotifier } from './ports/notifier.ts';
import { stepTypes } from './steps/registry.ts';

export type App = {
  config: Config;
  service: ProvisioningService;
  engine: Engine;
  store: MongoJobStore;
  manifests: Manifests;
  ledger: RedisSandboxLedger;
  close(): Promise<void>;
};

export type ComposeOptions = {
  runWorkers: boolean;
  notifier?: JobNotifier;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  onError?: (err: unknown) => void;
};

export async function compose(config: Config, opts: ComposeOptions): Promise<App> {
  const manifests = loadManifests({
    manifestsDir: config.manifestsDir,
    seedDir: config.seedDir,
    stepTypes,
    sampleTenantSettings: config.tenant,
  });
  const mongo = new MongoClient(config.mongoUri, { serverSelectionTimeoutMS: 10_000 });
  await mongo.connect();
  const store = new MongoJobStore(mongo.db(config.mongoDb));
  await store.ensureIndexes();
  const engine = await Engine.start({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    store,
    stepTypes,
    runWorkers: opts.runWorkers,
    concurrency: config.workerConcurrency,
    services: (redis, keys) => ({
      sandbox: new RedisSandboxLedger(redis, keys.sandbox()),
      webhookSigningSecret: config.webhookSigningSecret,
      fetch: globalThis.fetch,
    }),
    ...(opts.notifier ? { notifier: opts.notifier } : {}),
    ...(opts.lockDurationMs ? { lockDurationMs: opts.lockDurationMs } : {}),
    ...(opts.stalledIntervalMs ? { stalledIntervalMs: opts.stalledIntervalMs } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
  });
  const service = new ProvisioningService({ engine, store, manifests, settings: config.tenant, catalogue: stepTypes });
  const ledger = new RedisSandboxLedger(engine.redis, engine.keys.sandbox());
  return {
    config,
    service,
    engine,
    store,
    manifests,
    ledger,
    async close() {
      await engine.close();
      await mongo.close();
    },
  };
}
