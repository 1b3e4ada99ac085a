/**
 * The chaos run's own Redis and MongoDB-wire server, so it can restart them:
 * a redis-server with the append-only file on (a graceful SHUTDOWN writes it
 * out, the restart reads it back) and a FerretDB, each restarted on the same
 * port and data folder. Started through the services library (detached, own
 * log, recorded for reaping if this process dies), stopped with the run.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ensureFerretBinary, findOnPath, freePort, mongoPing, redisPing, stateDir } from '../services.ts';
import { terminate } from '../services/process.ts';
import { recordPids, RUN_PREFIX, stopRun, type Run, type Started } from '../services/runs.ts';
import { spawnAndWait } from '../services/spawn.ts';

export type StoreServers = {
  redisUrl: string;
  mongoUri: string;
  /** SHUTDOWN (the AOF is written out), then a new redis-server on the same port and folder. */
  restartRedis(): Promise<void>;
  /** SIGTERM to FerretDB, then a new one on the same port and folder. */
  restartStore(): Promise<void>;
  stop(): Promise<void>;
};

type Spec = Parameters<typeof spawnAndWait>[1];

export async function startStoreServers(): Promise<StoreServers> {
  const run: Run = { dir: join(stateDir, `${RUN_PREFIX}${process.pid}-chaos-${randomBytes(3).toString('hex')}`), persistent: false, started: [] };
  mkdirSync(run.dir, { recursive: true });
  const redisSpec = await redisServer(run.dir);
  const storeSpec = await ferretServer(run.dir);
  const servers = { redis: await spawnAndWait(run, redisSpec.spec), store: await spawnAndWait(run, storeSpec.spec) };

  async function replace(which: 'redis' | 'store', spec: Spec, stopOld: (old: Started) => Promise<void>): Promise<void> {
    const old = servers[which];
    await stopOld(old);
    run.started.splice(run.started.indexOf(old), 1);
    recordPids(run);
    // A log of its own per start: the one of the server that was stopped may tell why something failed.
    servers[which] = await spawnAndWait(run, { ...spec, logFile: spec.logFile.replace(/\.log$/, `-restarted-${Date.now()}.log`) });
  }

  return {
    redisUrl: redisSpec.url,
    mongoUri: storeSpec.url,
    restartRedis: () =>
      replace('redis', redisSpec.spec, async (old) => {
        const admin = new Redis(redisSpec.url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
        admin.on('error', () => undefined); // the server going away is the point
        await admin.connect();
        // The connection closes as Redis exits, so the command never gets its answer.
        await admin.call('SHUTDOWN').catch(() => undefined);
        admin.disconnect();
        await terminate(old.pid, old.child, 10_000);
      }),
    restartStore: () => replace('store', storeSpec.spec, (old) => terminate(old.pid, old.child, 10_000)),
    // The data goes; the logs stay for whoever looks into a failed run (the next run reaps the folder).
    stop: () => stopRun(run, false),
  };
}

async function redisServer(runDir: string): Promise<{ url: string; spec: Spec }> {
  const bin = findOnPath('redis-server');
  if (!bin) throw new Error('redis-server is not on PATH: run `npm test` once (it installs Redis) or install redis-server');
  const port = await freePort();
  const dir = join(runDir, 'redis-data');
  mkdirSync(dir, { recursive: true });
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no'];
  return {
    url,
    spec: {
      name: 'redis',
      impl: 'redis-server',
      cmd: bin,
      args: [...args, '--appendonly', 'yes', '--appendfsync', 'everysec'],
      logFile: join(runDir, 'redis.log'),
      dataDirs: [dir],
      timeoutMs: 30_000,
      ready: () => redisPing(url, 1000).then(() => true),
    },
  };
}

async function ferretServer(runDir: string): Promise<{ url: string; spec: Spec }> {
  const bin = await ensureFerretBinary();
  const port = await freePort();
  const dir = join(runDir, 'ferretdb-data');
  mkdirSync(dir, { recursive: true });
  const url = `mongodb://127.0.0.1:${port}/`;
  return {
    url,
    spec: {
      name: 'mongodb',
      impl: 'ferretdb',
      cmd: bin,
      args: ['-listen', `127.0.0.1:${port}`, '-dir', dir],
      logFile: join(runDir, 'ferretdb.log'),
      dataDirs: [dir],
      timeoutMs: 30_000,
      ready: () => mongoPing(url, 2000).then(() => true),
    },
  };
}
