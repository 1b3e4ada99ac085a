/**
 * Scale-out, measured: the throughput run of scenario 1 (the same jobs,
 * graph and per-process concurrency), with the work done by real
 * `provisioner worker` processes beside this one, as they would run on
 * several machines sharing one Redis and one MongoDB:
 *   stages 1, 2, 4   that many `worker --roles steps` processes (step workers
 *                    and dispatcher) plus one `worker --roles recorder`;
 *                    steps processes are added between stages, the recorder
 *                    stays
 *   all roles        one `worker` process doing everything (steps, recorder,
 *                    and the Slack notifier, against the loopback Slack fake):
 *                    the process issue 14's memory goal is about
 * Each stage: jobs created with the step queue paused, root steps queued by
 * the dispatchers, then the clock runs from resuming the queue until the
 * last job's sink step finished (from the job hashes). CPU per step is the
 * worker processes' (utime + stime from /proc) plus redis-server's. Peak RSS
 * (VmHWM) of each process is read just before it is stopped. Between stages
 * the finished jobs' live state is deleted so the recorder skips its backlog
 * (the store lag is scenario 1's provision round's figure, not this one's).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import launch from '../bin/node-launch.json' with { type: 'json' };
import type { Redis } from 'ioredis';
import { STEP_QUEUE } from '../src/engine/engine.ts';
import { SlackFake } from '../test/support/slack-fake.ts';
import {
  deleteKeys,
  engineJobFor,
  fixed,
  groupProgress,
  pool,
  ROOT,
  startApp,
  starterDeal,
  STEPS_PER_JOB,
  vmHwmMb,
  waitForSinks,
  waitUntil,
  type BenchApp,
} from './lib.ts';

export const SCALE_STAGES = [1, 2, 4] as const;
const STOP_GRACE_MS = 5_000;

/** Peak RSS (VmHWM) of a worker process when it stopped, and once it had started (before any work). */
export type ProcessMemory = { name: string; pid: number; peakMb: number; startedMb: number };

export type ScaleStage = {
  /** Steps processes (0 for the all-roles process). */
  processes: number;
  stepsPerS: number;
  windowMs: number;
  /** CPU µs per step: every worker process together, and redis-server. */
  cpu: { nodeUs: number; redisUs: number };
};

export type ScaleFigures = {
  stages: ScaleStage[];
  allRoles: ScaleStage;
  memory: ProcessMemory[];
  /** Peak RSS of the one process doing steps, recorder and notifier. */
  allRolesMb: number;
};

export type ScaleContext = {
  redis: Redis;
  prefix: string;
  mongoDb: string;
  manifestsDir: string;
  jobs: number;
  concurrency: number;
  runId: string;
  log: (line: string) => void;
  onError: (err: unknown) => void;
  /** Called with each database used, so the bench's cleanup drops it. */
  track: (db: string) => void;
  /** Called with each child process, so the bench's cleanup stops it if the run is cut short. */
  started: (stop: () => Promise<unknown>) => void;
};

type WorkerProcess = { name: string; child: ChildProcess; startedMb: number };

export async function scaleScenario(ctx: ScaleContext): Promise<ScaleFigures> {
  ctx.track(ctx.mongoDb);
  const submitter = await startApp({
    prefix: ctx.prefix,
    mongoDb: ctx.mongoDb,
    manifestsDir: ctx.manifestsDir,
    concurrency: ctx.concurrency,
    runWorkers: false,
    onError: ctx.onError,
  });
  const running: WorkerProcess[] = [];
  const memory: ProcessMemory[] = [];
  const stopAll = async () => {
    memory.push(...(await Promise.all(running.splice(0).map(stopWorker))));
  };
  ctx.started(stopAll);
  try {
    const env = workerEnv(ctx, ctx.prefix, ctx.mongoDb);
    // Processes start side by side: on a busy machine each takes seconds.
    const starting = [startWorker('recorder', ['--roles', 'recorder'], env)];
    const stages: ScaleStage[] = [];
    for (const processes of SCALE_STAGES) {
      const steps = running.filter((p) => p.name.startsWith('steps')).length;
      for (let n = steps + 1; n <= processes; n++) starting.push(startWorker(`steps ${n}`, ['--roles', 'steps'], env));
      await startedAll(starting.splice(0), running);
      const stage = await timedRun(ctx, submitter, running, processes);
      ctx.log(stageLine(`${processes} steps process${processes === 1 ? '' : 'es'} + 1 recorder`, stage));
      stages.push(stage);
      await skipRecorderBacklog(ctx.redis, submitter);
    }
    await stopAll();
    const all = await allRolesRun(ctx);
    memory.push(...all.memory);
    return { stages, allRoles: all.stage, memory, allRolesMb: all.memory[0]?.peakMb ?? Number.NaN };
  } finally {
    await stopAll();
    await submitter.close();
  }
}

/** One process with every role, the notifier talking to the loopback Slack fake, on a prefix and database of its own. */
async function allRolesRun(ctx: ScaleContext): Promise<{ stage: ScaleStage; memory: ProcessMemory[] }> {
  const fake = await SlackFake.start({ botToken: 'xoxb-bench-token' });
  const prefix = `${ctx.prefix}a`;
  const mongoDb = `${ctx.mongoDb}_a`;
  ctx.track(mongoDb);
  const submitter = await startApp({
    prefix,
    mongoDb,
    manifestsDir: ctx.manifestsDir,
    concurrency: ctx.concurrency,
    runWorkers: false,
    onError: ctx.onError,
  });
  const slack = {
    SLACK_MODE: 'http',
    SLACK_BOT_TOKEN: 'xoxb-bench-token',
    SLACK_SIGNING_SECRET: 'bench-signing-secret',
    SLACK_API_URL: fake.url,
    SLACK_ONBOARDING_CHANNEL: 'C0BENCH02',
    SLACK_APPROVERS: 'U0APPROVE',
  };
  const running: WorkerProcess[] = [];
  const stopAll = async () => Promise.all(running.splice(0).map(stopWorker));
  ctx.started(stopAll);
  try {
    await startedAll([startWorker('all roles', [], { ...workerEnv(ctx, prefix, mongoDb), ...slack })], running);
    const stage = await timedRun(ctx, submitter, running, 0);
    ctx.log(stageLine('1 process with every role (steps, recorder, notifier)', stage));
    await skipRecorderBacklog(ctx.redis, submitter);
    return { stage, memory: await stopAll() };
  } finally {
    await stopAll();
    await submitter.close();
    await fake.close();
  }
}

function stageLine(what: string, s: ScaleStage): string {
  return (
    `${what}: ${fixed(s.stepsPerS)} steps/s (last job live ${fixed(s.windowMs)} ms after release;` +
    ` CPU/step: worker processes ${fixed(s.cpu.nodeUs)} µs, redis ${fixed(s.cpu.redisUs)} µs)`
  );
}

function workerEnv(ctx: ScaleContext, prefix: string, mongoDb: string): Record<string, string> {
  return {
    QUEUE_PREFIX: prefix,
    MONGODB_DB: mongoDb,
    WORKER_CONCURRENCY: String(ctx.concurrency),
    MANIFESTS_DIR: ctx.manifestsDir,
    SEED_MANIFESTS_DIR: join(ROOT, 'seed-manifests'),
    // Several processes on one machine: no metrics port each.
    METRICS_PORT: '0',
    LOG_LEVEL: 'error',
    // To try other Node/V8 settings on the worker processes only (e.g. --max-semi-space-size=8), not on the bench process.
    ...(process.env['BENCH_WORKER_NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['BENCH_WORKER_NODE_OPTIONS'] } : {}),
  };
}

/** Waits for processes being started; those that did are added to `running` (to be stopped) even if another failed. */
async function startedAll(starting: readonly Promise<WorkerProcess>[], running: WorkerProcess[]): Promise<void> {
  const settled = await Promise.allSettled(starting);
  for (const s of settled) if (s.status === 'fulfilled') running.push(s.value);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
}

/** How bin/provisioner.mjs starts Node (bin/node-launch.json): its flags, unless NODE_OPTIONS chooses its own young generation, and its compile cache. */
function nodeLaunch(env: Record<string, string>): { flags: string[]; env: Record<string, string> } {
  return {
    flags: env['NODE_OPTIONS']?.includes('--max-semi-space-size') ? [] : launch.flags,
    env: { NODE_COMPILE_CACHE: process.env['NODE_COMPILE_CACHE'] ?? join(ROOT, launch.compileCache) },
  };
}

/** `provisioner worker …` as an operator starts it (started as bin/provisioner.mjs starts Node); resolves once it says it is running. */
async function startWorker(name: string, args: string[], env: Record<string, string>): Promise<WorkerProcess> {
  const launch = nodeLaunch(env);
  const child = spawn(process.execPath, [...launch.flags, join(ROOT, 'src/cli/main.ts'), 'worker', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...launch.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`provisioner worker (${name}) did not start within 60 s: ${said}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (said.includes('Worker running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`provisioner worker (${name}) exited (${code}) before it started: ${said}`));
    });
  });
  return { name, child, startedMb: vmHwmMb(child.pid ?? 0) ?? Number.NaN };
}

/**
 * Reads the process's peak RSS, then stops it as an orchestrator would: SIGTERM (running steps finish first), and
 * SIGKILL after a grace period. The notifier holds its Slack calls to Slack's pace (about one post a second), so after
 * a 200-job burst it would take minutes to finish them; the run's data is dropped anyway.
 */
async function stopWorker({ name, child, startedMb }: WorkerProcess): Promise<ProcessMemory> {
  const pid = child.pid ?? 0;
  const peakMb = vmHwmMb(pid) ?? Number.NaN;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(grace);
  }
  return { name, pid, peakMb, startedMb };
}

/** One timed run of `ctx.jobs` jobs on the submitter's prefix, worked by the processes running. */
async function timedRun(ctx: ScaleContext, submitter: BenchApp, running: readonly WorkerProcess[], processes: number): Promise<ScaleStage> {
  const control = new Queue(STEP_QUEUE, { connection: ctx.redis, prefix: submitter.prefix });
  try {
    await control.pause();
    const prepared = Array.from({ length: ctx.jobs }, () => engineJobFor(submitter, starterDeal(ctx.runId)));
    await pool(prepared, 8, ({ definition, event }) => submitter.engine.createJob(definition, event));
    const stream = submitter.engine.keys.events();
    await waitUntil('root steps queued', async () => (await groupProgress(ctx.redis, stream, 'dispatcher')).caughtUp, {
      timeoutMs: 30_000,
      pollMs: 10,
    });
    const cpu0 = await cpuOf(ctx.redis, running);
    const go = Date.now();
    await control.resume();
    const jobIds = prepared.map((p) => p.definition.jobId);
    const finished = await waitForSinks(ctx.redis, submitter.engine.keys.jobState, jobIds, { timeoutMs: 60_000, pollMs: 20 });
    const cpu1 = await cpuOf(ctx.redis, running);
    const windowMs = Math.max(1, Math.max(...finished.values()) - go);
    const steps = ctx.jobs * STEPS_PER_JOB;
    return {
      processes,
      windowMs,
      stepsPerS: (steps * 1000) / windowMs,
      cpu: { nodeUs: ((cpu1.workersMs - cpu0.workersMs) * 1000) / steps, redisUs: ((cpu1.redisMs - cpu0.redisMs) * 1000) / steps },
    };
  } finally {
    await control.close();
  }
}

/** Deletes the finished jobs' live state: the recorder skips what it has not stored yet, so the next stage starts quiet. */
async function skipRecorderBacklog(redis: Redis, submitter: BenchApp): Promise<void> {
  await deleteKeys(redis, submitter.engine.keys.jobState('*'));
  const stream = submitter.engine.keys.events();
  await waitUntil('recorder skipping its backlog', async () => (await groupProgress(redis, stream, 'recorder')).caughtUp, {
    timeoutMs: 15_000,
    pollMs: 50,
  }).catch(() => undefined);
}

const CLOCK_TICKS_PER_S = clockTicks();

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process in ms, from /proc/<pid>/stat (fields 14 and 15; the name in field 2 may hold spaces). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

async function cpuOf(redis: Redis, running: readonly WorkerProcess[]): Promise<{ workersMs: number; redisMs: number }> {
  const info = await redis.info('cpu');
  const redisS = ['used_cpu_sys', 'used_cpu_user'].reduce((sum, k) => sum + Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1]), 0);
  const workersMs = running.reduce((sum, p) => sum + (p.child.pid === undefined ? 0 : processCpuMs(p.child.pid)), 0);
  return { workersMs, redisMs: redisS * 1000 };
}
