/**
 * Runs test/support/worker-process.ts as a separate Node process working for
 * one test app: same queue prefix and database, and the same outside world
 * (emulators, AWS endpoint, tenant namespace), so a test can SIGKILL it in
 * the middle of a step and let another worker take the step over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterEach } from 'vitest';
import { appPerTest, type TestApp } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** The app's own configuration, plus the servers it found in the environment. */
export function workerEnvFor(app: TestApp): Record<string, string> {
  return { ...app.env, REDIS_URL: app.config.redisUrl, MONGODB_URI: app.config.mongoUri };
}

/** Extra settings of one worker process: Node's own options (e.g. `--import` a hook) and environment. */
export type WorkerExtras = { nodeArgs?: readonly string[]; env?: Record<string, string> };

/** Starts a worker process for the app; resolves once it is consuming. */
export function startWorker(app: TestApp, extras: WorkerExtras = {}): Promise<ChildProcess> {
  return startWorkerProcess({ ...workerEnvFor(app), ...extras.env }, extras.nodeArgs ? { nodeArgs: extras.nodeArgs } : {});
}

/**
 * Starts a worker process configured by `env` (on top of this process's
 * environment); resolves once it is consuming. `lockMs`: how long a step's
 * lock lasts, so how soon a killed worker's step is taken over; `nodeArgs`: Node's own
 * options, before the script.
 */
export async function startWorkerProcess(
  env: Record<string, string>,
  opts: { lockMs?: number; stderr?: 'inherit' | number; nodeArgs?: readonly string[] } = {},
): Promise<ChildProcess> {
  const args = [
    ...(opts.nodeArgs ?? []),
    resolve(ROOT, 'test/support/worker-process.ts'),
    ...(opts.lockMs === undefined ? [] : ['--lock-ms', String(opts.lockMs)]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', opts.stderr ?? 'inherit'],
  });
  let output = '';
  const ready = new Promise<void>((res, rej) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) res();
    });
    child.once('exit', (code, signal) => rej(new Error(`worker process exited early (${code ?? signal})`)));
  });
  await ready;
  return child;
}

/** Stops the process with `signal` (SIGKILL: no cleanup at all) and waits until it is gone. */
export async function stopWorker(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/**
 * Per test: an app that only submits work, and worker processes that do it.
 * After each test the workers stop first (hooks run last-registered first), then the app.
 */
export function appWithWorkersPerTest(): {
  startApp(pipeline: string): Promise<TestApp>;
  startWorker(app: TestApp, extras?: WorkerExtras): Promise<ChildProcess>;
} {
  const start = appPerTest();
  const workers: ChildProcess[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await stopWorker(w, 'SIGTERM');
  });
  return {
    startApp: (pipeline) => start({ pipeline, runWorkers: false }),
    async startWorker(app, extras) {
      const child = await startWorker(app, extras);
      workers.push(child);
      return child;
    },
  };
}
