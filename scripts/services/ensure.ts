// ensureServices(): the library entry point. Starts (or reuses) every wanted
// service concurrently in one run folder, returns their env variables and a
// stop() that stops only what this call started. A failed start stops the
// others, and an exit hook stops everything if the caller never calls stop().

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAws } from './aws.ts';
import { errorMessage, stateDir } from './common.ts';
import { ensureEmulators } from './emulators.ts';
import { ensureMongo } from './mongo.ts';
import { hasExited, signalGroup } from './process.ts';
import { ensureRedis } from './redis.ts';
import { reapStaleRuns, RUN_PREFIX, stopRun, type Run } from './runs.ts';
import type { EnsureOptions, ServiceInfo, Services } from './types.ts';

/**
 * Makes Redis and MongoDB (and the AWS emulator when `wantAws`, the local
 * profile's emulators when `wantEmulators`) available: reuses REDIS_URL /
 * MONGODB_URI / AWS_ENDPOINT_URL / STRIPE_API_URL when set, else starts local
 * servers on free loopback ports. `stop()` stops only what this call started.
 */
export async function ensureServices(opts: EnsureOptions = {}): Promise<Services> {
  const persistent = opts.persistent ?? false;
  mkdirSync(stateDir, { recursive: true });
  reapStaleRuns();
  const dir = persistent ? join(stateDir, 'cli') : join(stateDir, `${RUN_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const run: Run = { dir, persistent, started: [] };

  // Safety net if the caller forgets stop() or exits abruptly: don't leave servers behind.
  const onExit = (): void => {
    for (const p of run.started) if (!hasExited(p.child)) signalGroup(p.pid, 'SIGTERM');
  };
  if (!persistent) process.on('exit', onExit);

  const services: ServiceInfo[] = [];
  try {
    // Independent; start them concurrently (the FerretDB build dominates a cold start).
    const tasks = [ensureRedis(run), ensureMongo(run)];
    if (opts.wantAws) tasks.push(ensureAws(run));
    if (opts.wantEmulators) tasks.push(ensureEmulators(run));
    const results = await Promise.allSettled(tasks);
    const failures: string[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') services.push(r.value);
      else failures.push(errorMessage(r.reason));
    }
    if (failures.length > 0) throw new Error(failures.join('\n\n'));
  } catch (err) {
    await stopRun(run, !persistent);
    process.off('exit', onExit);
    throw err;
  }

  const env: Record<string, string> = {};
  for (const s of services) Object.assign(env, { [s.envVar]: s.url }, s.extraEnv);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Keep the run's logs until the next run reaps the folder; remove data now.
    await stopRun(run, false);
    process.off('exit', onExit);
  };
  return { env, stop, services };
}
