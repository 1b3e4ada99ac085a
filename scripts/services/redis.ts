// Redis for the engine's queues (BullMQ) and the live job state: reuse
// REDIS_URL when set (after a real PING), else start redis-server on a free
// loopback port, installing it with apt-get first when it is missing and we
// are root. It runs with an append-only file (fsync every second) in the run
// folder, like production must: a Redis restart then loses no job in flight.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, cannotApt } from './apt.ts';
import { errorMessage } from './common.ts';
import { redactUrl, redisPing } from './probes.ts';
import { findOnPath, isExecutable, tail } from './process.ts';
import type { Run, Started } from './runs.ts';
import { spawnAndWait, withPortRetry } from './spawn.ts';
import type { ServiceInfo } from './types.ts';

async function installRedis(): Promise<string> {
  const advice = 'Install Redis (e.g. `apt-get install redis-server` or `brew install redis`) or set REDIS_URL to a running server.';
  const cannot = cannotApt();
  if (cannot) throw new Error(`redis-server is not on PATH and ${cannot}. ${advice}`);
  const { code, logFile } = await aptInstall('redis-server');
  const bin = findOnPath('redis-server') ?? ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find(isExecutable);
  if (code !== 0 || !bin) {
    throw new Error(`apt-get could not install redis-server (exit ${code}). ${advice}\n  log (${logFile}):\n${tail(logFile)}`);
  }
  return bin;
}

export async function ensureRedis(run: Run): Promise<ServiceInfo> {
  const existing = process.env.REDIS_URL;
  if (existing) {
    try {
      await redisPing(existing, 5000);
    } catch (err) {
      throw new Error(
        `REDIS_URL is set (${redactUrl(existing)}) but that server does not answer PING: ${errorMessage(err)}. Start it, or unset REDIS_URL to let this script start a local one.`,
      );
    }
    return { name: 'redis', impl: 'external', envVar: 'REDIS_URL', url: existing, source: 'reused' };
  }
  const bin = await findRedisServer();
  return withPortRetry(async (port) => {
    const dir = join(run.dir, `redis-${port}`);
    await startRedisServer(run, { bin, port, dir, logFile: join(run.dir, 'redis.log') });
    return { name: 'redis', impl: 'redis-server', envVar: 'REDIS_URL', url: `redis://127.0.0.1:${port}`, source: 'started' };
  });
}

/** redis-server from PATH, installed with apt-get when missing (and we are root). */
export async function findRedisServer(): Promise<string> {
  return findOnPath('redis-server') ?? (await installRedis());
}

/**
 * Starts redis-server on 127.0.0.1:`port` with its data in `dir` and waits until it answers.
 * Started again on the same port and folder, it reloads everything acknowledged up to a second
 * before it stopped (all of it after a graceful SHUTDOWN/SIGTERM).
 */
export async function startRedisServer(run: Run, spec: { bin: string; port: number; dir: string; logFile: string }): Promise<Started> {
  mkdirSync(spec.dir, { recursive: true });
  const url = `redis://127.0.0.1:${spec.port}`;
  const where = ['--port', String(spec.port), '--bind', '127.0.0.1', '--daemonize', 'no', '--dir', spec.dir];
  // Durable like production must be: every write in an append-only file, fsynced each second; never evict.
  const durable = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'];
  const args = [...where, ...durable];
  return spawnAndWait(run, {
    name: 'redis',
    impl: 'redis-server',
    cmd: spec.bin,
    args,
    logFile: spec.logFile,
    dataDirs: [spec.dir],
    timeoutMs: 15_000,
    ready: () => redisPing(url, 1000).then(() => true),
  });
}
