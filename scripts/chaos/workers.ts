/**
 * The worker processes of the chaos run (test/support/worker-process.ts, the
 * same step workers and stream consumers as `provisioner worker`): started,
 * SIGKILLed and replaced. A killed worker is replaced at once, as a process
 * supervisor would; its steps are taken over once their lock expires.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { keysFor, queueJobId } from '../../src/engine/keys.ts';
import { STEP_QUEUE } from '../../src/engine/engine.ts';
import { startWorkerProcess, stopWorker } from '../../test/support/start-worker.ts';
import { stepField } from '../../src/engine/job-hash.ts';

export type WorkerPool = {
  /** Pids of the workers that are up. */
  alive(): number[];
  /** SIGKILLs the worker and starts a replacement (without waiting for it to be ready). */
  killAndReplace(pid: number): Promise<void>;
  /** The pid of the worker holding this step's current run, when a live worker of ours holds it. */
  ownerOf(jobId: string, stepId: string): Promise<number | undefined>;
  kills(): number;
  /** SIGTERM to every worker (they finish their running steps first). */
  stop(): Promise<void>;
  /** SIGKILL to every worker, at once: the run is being interrupted. */
  killAll(): void;
};

export type PoolOptions = { size: number; env: Record<string, string>; lockMs: number; logFile: string; redis: Redis; prefix: string };

/** SIGTERM lets running steps finish; a worker still busy after half a minute is killed. */
async function stopGently(child: ChildProcess): Promise<void> {
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await stopWorker(child, 'SIGTERM');
  clearTimeout(timer);
}

export async function startWorkerPool(opts: PoolOptions): Promise<WorkerPool> {
  const workers = new Map<number, ChildProcess>();
  const starting = new Set<Promise<void>>();
  let kills = 0;
  const log = openSync(opts.logFile, 'a');

  async function startOne(): Promise<void> {
    const child = await startWorkerProcess(opts.env, { lockMs: opts.lockMs, stderr: log });
    if (child.pid !== undefined) workers.set(child.pid, child);
    child.once('exit', () => {
      if (child.pid !== undefined) workers.delete(child.pid);
    });
  }

  function replace(): void {
    const started = startOne().catch((err: unknown) => {
      process.stderr.write(`[chaos] a replacement worker did not start: ${String(err)}\n`);
    });
    starting.add(started);
    void started.finally(() => starting.delete(started));
  }

  await Promise.all(Array.from({ length: opts.size }, startOne));
  const keys = keysFor(opts.prefix);
  const me = hostname();

  return {
    alive: () => [...workers.keys()],
    async killAndReplace(pid) {
      const child = workers.get(pid);
      if (!child) return;
      await stopWorker(child, 'SIGKILL');
      kills += 1;
      replace();
    },
    async ownerOf(jobId, stepId) {
      const ticket = await opts.redis.hget(keys.jobState(jobId), stepField('ticket', stepId));
      if (ticket === null) return undefined;
      const id = queueJobId(jobId, { stepId, ticket: Number(ticket), phase: 'run' });
      // BullMQ keeps the worker name (host-pid, see src/engine/engine.ts) of the job's current run in "pb".
      const holder = await opts.redis.hget(`${opts.prefix}:${STEP_QUEUE}:${id}`, 'pb');
      const pid = holder?.startsWith(`${me}-`) ? Number(holder.slice(me.length + 1)) : Number.NaN;
      return workers.has(pid) ? pid : undefined;
    },
    kills: () => kills,
    killAll() {
      for (const child of workers.values()) child.kill('SIGKILL');
    },
    async stop() {
      await Promise.all(starting);
      await Promise.all([...workers.values()].map(stopGently));
      closeSync(log);
    },
  };
}
