/**
 * The HTTP API side of the benchmark: how long a CRM waits for its 202 while
 * 100 jobs run (from sending POST /api/v1/provisioning-requests to reading
 * the whole answer, as the CRM would measure it). Each request is a new deal,
 * so each one really stores a job and hands it to the engine: bearer token
 * check, rate-limit count in Redis, intake parsing, the store's lookup by
 * opportunity, slug reservation and insert, and the engine's createJob.
 *
 * Two layouts, one after the other: the step workers in the server's own
 * process (`provisioner serve` as it starts by default), and in a process of
 * their own (`provisioner worker` beside the server). Each has its baseline
 * in the same run: the same requests before the 100 jobs, when only the jobs
 * the API itself started run. `BENCH_ONLY=api node bench/engine.bench.ts`
 * runs this part alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { compose, type App } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { tokenHash } from '../src/domain/api-callers.ts';
import { deleteKeys, engineJobFor, manifestsDirWith, percentile, pipelineYaml, ROOT, SCHED_LATENCY_MS, starterDeal, waitForSinks } from './lib.ts';

const TOKEN = 'prov_bench-crm-token-0123456789abcdefghijklmnop';

export type ApiLayoutFigures = {
  p50: number;
  p99: number;
  max: number;
  requests: number;
  idleP50: number;
  idleP99: number;
  /** The server process's event loop delay while the 100 jobs ran (p99, ms). */
  loopP99: number;
};
export type ApiFigures = { inProcess: ApiLayoutFigures; ownProcess: ApiLayoutFigures };

type Run = { app: App; base: string; prefix: string; db: string; worker: ChildProcess | undefined };

function runEnv(runId: string): Record<string, string> {
  return {
    QUEUE_PREFIX: `bapi${runId}`,
    MONGODB_DB: `bench_api_${runId}`,
    WORKER_CONCURRENCY: '400',
    MANIFESTS_DIR: manifestsDirWith(pipelineYaml((id) => SCHED_LATENCY_MS[id] ?? 50)),
    SEED_MANIFESTS_DIR: join(ROOT, 'seed-manifests'),
    API_CALLERS: `salesforce=sha256:${tokenHash(TOKEN)}`,
    // The budget is not what is measured here.
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    LOG_LEVEL: 'silent',
  };
}

async function startRun(runId: string, workersInProcess: boolean): Promise<Run> {
  const env = runEnv(runId);
  const worker = workersInProcess ? undefined : await startWorkerProcess(env);
  const app = await compose(loadConfig({ ...process.env, ...env }), { runWorkers: workersInProcess, serveWeb: true, onError: () => undefined });
  if (!app.web) throw new Error('the HTTP server was not composed');
  return { app, base: await app.web.listen(0), prefix: env.QUEUE_PREFIX ?? '', db: env.MONGODB_DB ?? '', worker };
}

/** `provisioner worker` as the test suite runs it: step workers and the stream consumers, on the same prefix and database. */
async function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'test/support/worker-process.ts'), '--lock-ms', '5000'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  child.stdout?.on('data', (chunk: Buffer) => (said += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!said.includes('ready')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('the worker process did not start');
    await sleep(50);
  }
  return child;
}

async function stopRun(run: Run): Promise<void> {
  await run.app.close();
  if (run.worker && run.worker.exitCode === null) {
    run.worker.kill('SIGTERM');
    await once(run.worker, 'exit');
  }
  const config = loadConfig();
  const redis = new Redis(config.redisUrl);
  await deleteKeys(redis, `${run.prefix}:*`);
  await redis.quit();
  const mongo = new MongoClient(config.mongoUri);
  await mongo.db(run.db).dropDatabase();
  await mongo.close();
}

/** One new deal, as a CRM sends it; the time until its whole answer is read. */
async function requestOnce(base: string, runId: string): Promise<number> {
  const { requestedBy: _caller, ...deal } = starterDeal(runId);
  const started = performance.now();
  const response = await fetch(`${base}/api/v1/provisioning-requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(deal),
  });
  await response.text();
  const ms = performance.now() - started;
  if (response.status !== 202) throw new Error(`the API answered ${response.status} to a new deal`);
  return ms;
}

async function layout(log: (line: string) => void, workersInProcess: boolean): Promise<ApiLayoutFigures> {
  const runId = randomBytes(3).toString('hex');
  const run = await startRun(runId, workersInProcess);
  const { app, base } = run;
  try {
    for (let i = 0; i < 20; i++) await requestOnce(base, runId); // warm-up: connections, JIT, the store's first writes
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push(await requestOnce(base, runId));
    const started = (await app.store.jobSummaries()).map((j) => j.jobId);
    await waitForSinks(app.engine.redis, (id) => app.engine.keys.jobState(id), started, { timeoutMs: 60_000, pollMs: 20 });

    // 100 jobs arrive over ~1 s and run (steps 20–200 ms) while the CRM asks for more, one request at a time.
    const jobs = Array.from({ length: 100 }, () => engineJobFor(app, starterDeal(runId)));
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const arriving = (async () => {
      for (const job of jobs) {
        await app.engine.createJob(job.definition, job.event);
        await sleep(10);
      }
    })();
    const allLive = arriving.then(() =>
      waitForSinks(
        app.engine.redis,
        (id) => app.engine.keys.jobState(id),
        jobs.map((j) => j.definition.jobId),
        { timeoutMs: 60_000, pollMs: 20 },
      ),
    );
    let running = true;
    void allLive.finally(() => (running = false));
    const latencies: number[] = [];
    while (running || latencies.length < 100) latencies.push(await requestOnce(base, runId));
    await allLive;
    loop.disable();
    const where = workersInProcess ? 'step workers in the server process' : 'step workers in their own process';
    log(`api (${where}): ${latencies.length} POST /api/v1/provisioning-requests, each a new deal stored and started, while 100 jobs ran`);
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
      requests: latencies.length,
      idleP50: percentile(idle, 50),
      idleP99: percentile(idle, 99),
      loopP99: loop.percentile(99) / 1e6,
    };
  } finally {
    await stopRun(run);
  }
}

export async function apiScenario(log: (line: string) => void): Promise<ApiFigures> {
  const inProcess = await layout(log, true);
  const ownProcess = await layout(log, false);
  return { inProcess, ownProcess };
}
