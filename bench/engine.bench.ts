/**
 * Engine benchmark (conventions: /work/shared/reference/benchmarks.md).
 *
 *   npm run bench                 starts Redis + a MongoDB-wire server and sets REDIS_URL / MONGODB_URI
 *   node bench/engine.bench.ts    with REDIS_URL and MONGODB_URI pointing at running servers
 *
 * Env: BENCH_JOBS (default 200), BENCH_ROUNDS (default 5 throughput rounds; 3 for submission), BENCH_PROVISION=0 skips the
 * (slow) submission and store-lag part for quick runs while working on the engine,
 * BENCH_SCALE=0 the scale-out part; BENCH_ONLY=api or BENCH_ONLY=scale runs only that part.
 *
 * 1. Throughput: BENCH_JOBS jobs of a 10-step graph (widest level 4) of
 *    zero-latency sandbox steps (each still writes its ledger key in Redis),
 *    worker concurrency 50 (compose({runWorkers:true}), WORKER_CONCURRENCY=50).
 *    Each round: every job is created, the worker app starts with its step
 *    queue paused, and the clock runs from releasing the queue until the last
 *    job's sink step finished. Interleaved with raw BullMQ rounds (the same
 *    number of bare jobs queued, then released; empty processor, same
 *    concurrency, same Redis). Medians of the rounds. Also CPU time per step
 *    of this process and of redis-server against the same per raw job: on a
 *    shared machine it moves much less than wall-clock throughput.
 *    The rounds create jobs as app.service.provision would hand them to the
 *    engine, without its MongoDB writes, so the engine is measured alone (a
 *    submission's own cost is section 7's: a few ms a job on FerretDB; it took
 *    50–250 ms while it looked the opportunity up with a scan). Submission
 *    through app.service.provision is timed once, in its own round, which then
 *    also runs on the engine (a cross-check with full store records) and in
 *    which the store lag is timed: until the recorder has written everything.
 *    Each round also runs BullMQ's own FlowProducer on the same graph, jobs
 *    and concurrency (flow.ts: by levels, barrier jobs, only steps counted):
 *    the peer a BullMQ user would pick instead (engine_vs_flow).
 *    Scale-out (scale.ts): the same run worked by 1, 2 and 4 real
 *    `provisioner worker --roles steps` processes and a `--roles recorder`
 *    one, then by one process with every role; each process's peak RSS.
 * 2. Scheduling latency: 100 jobs arriving over ~1 s, steps taking 20–200 ms,
 *    concurrency 400 (≥ 100 jobs × widest level 4); p50/p99 over every step
 *    with a dependency of st:<step> − max(ft:<need>), from the job hashes.
 * 3. Peak RSS of this process, redis-server, the MongoDB-wire server and each worker process.
 * 4. The control room with a long history (kpis.ts): GET /admin and GET
 *    /admin/kpis, p50/p99, with BENCH_KPI_JOBS jobs (10,000) and
 *    BENCH_KPI_EVENTS audit entries (1,000,000) seeded; BENCH_KPI=0 skips it.
 *
 * 5. Billing (billing.ts): 100 live tenants each receive a signed Stripe event
 *    at once; webhook → flags applied p50/p99 (BENCH_BILLING=0 skips it).
 *
 * 7. Submission at API speed (submit.ts): app.service.provision one caller at a
 *    time and 20 at once, against a bare insert of the same job document, on a
 *    store with history; and 20 concurrent duplicates → one job. BENCH_SUBMIT=0
 *    skips it; BENCH_ONLY=submit runs only it (BENCH_SUBMIT_JOBS, BENCH_SUBMIT_HISTORY).
 *
 * Runs 1 (rounds), 2, then 1's provision round (the long one). Prints figures
 * with their targets (not asserted), then one `bench:` line last. Uses its own queue prefixes and databases, removed at the end; stops
 * by itself (cleaning up) if it runs past ~3 minutes.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { STEP_QUEUE } from '../src/engine/engine.ts';
import { queueJobId } from '../src/engine/keys.ts';
import {
  engineJobFor,
  GRAPH,
  SCHED_LATENCY_MS,
  STEPS_PER_JOB,
  WIDEST_LEVEL,
  cpuMeter,
  storeCpuMs,
  deleteKeys,
  fixed,
  groupProgress,
  type GroupProgress,
  manifestsDirWith,
  median,
  mongoServerPid,
  percentile,
  pipelineYaml,
  pool,
  profileWindow,
  portOf,
  redisServerPid,
  starterDeal,
  startApp,
  verdict,
  vmHwmMb,
  waitForSinks,
  waitUntil,
  type BenchApp,
} from './lib.ts';
import { kpiFiguresLines, kpiScenario, kpiSizes, storeName, type KpiFigures } from './kpis.ts';
import { slackScenario } from './slack.ts';
import { billingFiguresLines, billingScenario } from './billing.ts';
import { apiScenario, type ApiFigures } from './api.ts';
import { LEVELS, startFlowPeer, type FlowRound } from './flow.ts';
import { scaleScenario, type ScaleFigures } from './scale.ts';
import { submitBenchFields, submitFiguresLines, submitScenario, type SubmitFigures } from './submit.ts';
import { REQUESTER } from '../test/support/people.ts';
import { stepField } from '../src/engine/job-hash.ts';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MONGODB_URI = process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/';
const JOBS = positiveInt(process.env['BENCH_JOBS'], 200);
// A round is half a second: on a shared machine one round moves ±30 %, so the median of five, not three.
const ROUNDS = positiveInt(process.env['BENCH_ROUNDS'], 5);
const WITH_PROVISION = process.env['BENCH_PROVISION'] !== '0';
const WITH_KPI = process.env['BENCH_KPI'] !== '0';
const WITH_BILLING = process.env['BENCH_BILLING'] !== '0';
const WITH_SCALE = process.env['BENCH_SCALE'] !== '0';
const WITH_SUBMIT = process.env['BENCH_SUBMIT'] !== '0';
const CONCURRENCY = 50;
/** FerretDB serialises the store's writes; more than one provision in flight only made each slower. */
const PROVISION_CONCURRENCY = 1;
const CREATE_CONCURRENCY = 8;
const WARMUP_JOBS = 10;
const SCHED_JOBS = 100;
const SCHED_SPREAD_MS = 1000;
const SCHED_RUNS = positiveInt(process.env['BENCH_SCHED_RUNS'], 3);
const SCHED_CONCURRENCY = SCHED_JOBS * WIDEST_LEVEL;
const TARGET_RATIO = 0.5;
/** Issue 14: the engine at least as fast as a FlowProducer running the same graph. */
const TARGET_VS_FLOW = 1.0;
/** Issue 14: peak RSS of the process running workers + recorder + notifier in the 200-job run. */
const TARGET_RSS_MB = 250;
/** Issue 14: scheduling p99 stays at most 25 ms in the staggered scenario (an earlier issue asked for under 50). */
const TARGET_P99_MS = 25;
const TARGET_ACK_P99_MS = 200;
const TARGET_API_P99_MS = 50;
/** Issue 14: every view and audit event in MongoDB within 2 s of the last job of a 200-job burst going live. */
const TARGET_STORE_LAG_MS = 2_000;
/**
 * BENCH_ONLY=api runs only the HTTP API scenario (section 5); BENCH_ONLY=store only the provision round and its
 * store lag (section 1, continued); BENCH_ONLY=kpi only the control room and audit lookups (section 4);
 * BENCH_ONLY=scale only the scale-out one; BENCH_ONLY=submit only the submission one; BENCH_ONLY=sched only the
 * staggered scheduling scenario (section 2), run BENCH_SCHED_RUNS times (default 3; the bench reports the median run).
 */
const ONLY = process.env['BENCH_ONLY'];
/** The whole run stops by itself (after cleaning up) at this point. */
// Throughput, scheduling, the provision round and the Slack scenario take about 3 minutes on 2 cores; the control room
// with its 1,000,000 seeded audit entries about 2 more, the API and submission scenarios about 2 more on a busy machine.
const WATCHDOG_MS = 720_000;
/** Provisioning stops at this point of the run even if not all jobs are in. */
const PROVISION_BUDGET_MS = 100_000;
/** Waiting for the store to catch up ends by this point of the run (what is left needs a few seconds). */
const STORE_BUDGET_MS = 150_000;
/** The same completed-job retention the engine's dispatcher gives step jobs. */
const REMOVE_ON_COMPLETE = { age: 3600, count: 10_000 } as const;

const runId = randomBytes(3).toString('hex');
const prefixRoot = `bench${runId}`;
const mongoDbRoot = `bench_${runId}`;
const startedAt = Date.now();

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const log = (line = ''): void => void process.stdout.write(`${line}\n`);

let engineErrors = 0;
const onError = (err: unknown): void => {
  engineErrors += 1;
  if (engineErrors <= 5) console.error('[engine]', err);
};

// ------------------------------------------------------------------ resources (all cleaned up at the end)

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const mongo = new MongoClient(MONGODB_URI, { serverSelectionTimeoutMS: 10_000 });
const manifestDirs: string[] = [];
const mongoDbs: string[] = [];
const apps: BenchApp[] = [];
const rawClosers: (() => Promise<unknown>)[] = [];

/**
 * Closing waits for the recorder's current batch, which on FerretDB can take
 * a minute. Deleting the job hashes first makes it skip what is left of its
 * backlog (a job with no live state is not recorded), so it stops quickly
 * and nothing is written to the database after it is dropped.
 */
async function closeApp(app: BenchApp): Promise<void> {
  apps.splice(apps.indexOf(app), 1);
  const stream = app.engine.keys.events();
  if (app.runWorkers && (await redis.exists(stream)) === 1) {
    await deleteKeys(redis, app.engine.keys.jobState('*'));
    try {
      await waitUntil('recorder skipping its backlog', async () => (await groupProgress(redis, stream, 'recorder')).caughtUp, {
        timeoutMs: 15_000,
        pollMs: 50,
      });
    } catch {
      // close() below still waits for the batch in hand
    }
  }
  await app.close();
}

async function cleanup(): Promise<void> {
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      console.error(`[cleanup] ${what}:`, err instanceof Error ? err.message : err);
    }
  };
  for (const app of [...apps]) await attempt(`close ${app.prefix}`, () => closeApp(app));
  for (const close of rawClosers.splice(0)) await attempt('close raw BullMQ', close);
  await attempt('delete Redis keys', () => deleteKeys(redis, `${prefixRoot}*`));
  for (const db of mongoDbs.splice(0)) await attempt(`drop database ${db}`, () => mongo.db(db).dropDatabase());
  for (const dir of manifestDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  await attempt('close clients', () => Promise.all([redis.quit(), mongo.close()]));
}

/** Event-loop delay of this process (which runs workers, dispatcher and recorder): shows when it is saturated. */
function loopDelay(): { stop(): string } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    stop() {
      h.disable();
      // The histogram holds whole timer intervals: subtract the 10 ms resolution to get the delay.
      const ms = (ns: number): string => fixed(Math.max(0, ns / 1e6 - 10), 0);
      return `event-loop delay p50 ${ms(h.percentile(50))} / p99 ${ms(h.percentile(99))} / max ${ms(h.max)} ms`;
    },
  };
}

/** Round-trip time of a PING on the bench's own Redis connection, sampled every 10 ms: shows when Redis is the one queueing. */
function redisPing(): { stop(): Promise<string> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await redis.ping();
      samples.push(performance.now() - t);
      await sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return `Redis PING p50 ${fixed(percentile(samples, 50), 1)} / p99 ${fixed(percentile(samples, 99), 1)} ms`;
    },
  };
}

// ------------------------------------------------------------------ scenario 1: throughput

type EngineRound = {
  jobs: number;
  submitMs: number;
  windowMs: number;
  jobsPerS: number;
  stepsPerS: number;
  /** NaN when not timed; an estimate when `caughtUp` is false. */
  storeLagMs: number;
  caughtUp: boolean;
  loopNote: string;
  /** CPU µs per step, this process and redis-server, over the engine window. */
  cpu: Cpu;
  /** CPU µs per step of the MongoDB-wire server (and its PostgreSQL) over the engine window: recording on the same cores. */
  storeUs: number;
};

type Cpu = { nodeUs: number; redisUs: number };

type RoundOptions = {
  name: string;
  manifestsDir: string;
  jobs: number;
  /** provision: through app.service.provision; direct: engine.createJob with what provision would pass. */
  submit: 'provision' | 'direct';
  timeStore: boolean;
};

/**
 * One round on its own prefix and database. Like production, jobs are
 * created by an API-side app (runWorkers:false), then the worker app starts
 * with the step queue paused, its dispatcher queues the root steps, and the
 * clock starts when the queue is resumed. It stops at the last job's
 * ft:<sink>, read from the hashes (polling only decides when to look).
 */
async function engineRound(o: RoundOptions): Promise<EngineRound> {
  const prefix = `${prefixRoot}${o.name}`;
  const db = `${mongoDbRoot}_${o.name}`;
  mongoDbs.push(db);
  const submitter = await startApp({ prefix, mongoDb: db, manifestsDir: o.manifestsDir, concurrency: CONCURRENCY, runWorkers: false, onError });
  apps.push(submitter);
  const deals = Array.from({ length: o.jobs }, () => starterDeal(runId));
  let jobIds: string[];
  const t0 = Date.now();
  if (o.submit === 'provision') {
    const ids = await pool(deals, PROVISION_CONCURRENCY, async (deal) =>
      Date.now() - startedAt < PROVISION_BUDGET_MS ? (await submitter.service.provision(deal, REQUESTER)).job.jobId : undefined,
    );
    jobIds = ids.filter((id): id is string => id !== undefined);
  } else {
    const prepared = deals.map((deal) => engineJobFor(submitter, deal));
    await pool(prepared, CREATE_CONCURRENCY, ({ definition, event }) => submitter.engine.createJob(definition, event));
    jobIds = prepared.map((p) => p.definition.jobId);
  }
  const submitMs = Math.max(1, Date.now() - t0);
  await closeApp(submitter);
  const jobs = jobIds.length;
  if (jobs === 0) throw new Error(`round ${o.name}: no job was submitted within the time budget`);

  const control = new Queue(STEP_QUEUE, { connection: redis, prefix });
  await control.pause();
  const app = await startApp({ prefix, mongoDb: db, manifestsDir: o.manifestsDir, concurrency: CONCURRENCY, runWorkers: true, onError });
  apps.push(app);
  const stream = app.engine.keys.events();
  await waitUntil('root steps queued', async () => (await groupProgress(redis, stream, 'dispatcher')).caughtUp, { timeoutMs: 30_000, pollMs: 10 });
  const cpuMeasure = await cpuMeter(redis);
  const store0 = storeCpuMs(portOf(MONGODB_URI, 27017));
  const profile = await profileWindow(o.name, redis);
  const go = Date.now();
  const loop = loopDelay();
  await control.resume();
  await control.close();
  const finished = await waitForSinks(redis, app.engine.keys.jobState, jobIds, { timeoutMs: 60_000, pollMs: 20 });
  const loopNote = loop.stop();
  await profile.stop();
  const used = await cpuMeasure.stop();
  const storeUs = ((storeCpuMs(portOf(MONGODB_URI, 27017)) - store0) * 1000) / (jobIds.length * STEPS_PER_JOB);
  const cpu = { nodeUs: (used.nodeMs * 1000) / (jobIds.length * STEPS_PER_JOB), redisUs: (used.redisMs * 1000) / (jobIds.length * STEPS_PER_JOB) };
  const liveAt = Math.max(...finished.values());
  const windowMs = Math.max(1, liveAt - go);

  let storeLagMs = Number.NaN;
  let caughtUp = false;
  if (o.timeStore) {
    // Until the recorder has acknowledged every event and MongoDB shows every job live
    // (MongoDB is asked only once the recorder is through, to not slow it down).
    const jobsCollection = mongo.db(db).collection<{ _id: string; status: string }>('jobs');
    const storeCaughtUp = async (): Promise<boolean> =>
      (await groupProgress(redis, stream, 'recorder')).caughtUp &&
      (await jobsCollection.countDocuments({ _id: { $in: jobIds }, status: 'live' })) === jobs;
    const before = await groupProgress(redis, stream, 'recorder');
    const waitStart = Date.now();
    const waitMs = Math.max(5_000, STORE_BUDGET_MS - (Date.now() - startedAt));
    try {
      storeLagMs = Math.max(0, (await waitUntil('store catch-up', storeCaughtUp, { timeoutMs: waitMs, pollMs: 100 })) - liveAt);
      caughtUp = true;
    } catch {
      // Out of time: extrapolate from the recorder's pace while we waited.
      const after = await groupProgress(redis, stream, 'recorder');
      const done = (p: GroupProgress): number => p.read - p.pending;
      const perMs = (done(after) - done(before)) / Math.max(1, Date.now() - waitStart);
      storeLagMs = Date.now() - liveAt + (perMs > 0 ? (after.added - done(after)) / perMs : Number.NaN);
    }
  }
  await closeApp(app);
  return {
    jobs,
    submitMs,
    windowMs,
    jobsPerS: (jobs * 1000) / windowMs,
    stepsPerS: (jobs * STEPS_PER_JOB * 1000) / windowMs,
    storeLagMs,
    caughtUp,
    loopNote,
    cpu,
    storeUs,
  };
}

type RawBullMQ = { round(jobs: number): Promise<{ jobsPerS: number; cpu: Cpu }> };

/**
 * Raw BullMQ: bare jobs, empty processor, same concurrency, same Redis, same
 * completed-job retention. A round queues its jobs by addBulk while the queue
 * is paused, resumes it and returns jobs/s until the last one completed.
 */
async function startRawBullMQ(): Promise<RawBullMQ> {
  const prefix = `${prefixRoot}b`;
  const queueConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection: queueConnection, prefix });
  const worker = new Worker('raw', async () => undefined, {
    connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    prefix,
    concurrency: CONCURRENCY,
  });
  worker.on('error', onError);
  rawClosers.push(
    () => worker.close(),
    () => queue.close(),
    () => queueConnection.quit(),
  );
  await worker.waitUntilReady();
  let completed = 0;
  let waiter: { target: number; resolve: (at: number) => void } | undefined;
  worker.on('completed', () => {
    completed += 1;
    if (waiter && completed >= waiter.target) {
      waiter.resolve(performance.now());
      waiter = undefined;
    }
  });
  let seq = 0;
  return {
    async round(jobs) {
      await queue.pause();
      const done = new Promise<number>((resolve) => (waiter = { target: completed + jobs, resolve }));
      for (let i = 0; i < jobs; i += 1000) {
        const chunk = Array.from({ length: Math.min(1000, jobs - i) }, () => ({
          name: 'bare',
          data: { n: ++seq },
          opts: { removeOnComplete: REMOVE_ON_COMPLETE },
        }));
        await queue.addBulk(chunk);
      }
      const cpuMeasure = await cpuMeter(redis);
      const t0 = performance.now();
      await queue.resume();
      const t1 = await Promise.race([done, sleep(60_000).then(() => Number.NaN)]);
      if (Number.isNaN(t1)) throw new Error(`raw BullMQ: ${jobs} jobs not processed within 60 s`);
      const used = await cpuMeasure.stop();
      return { jobsPerS: (jobs * 1000) / (t1 - t0), cpu: { nodeUs: (used.nodeMs * 1000) / jobs, redisUs: (used.redisMs * 1000) / jobs } };
    },
  };
}

type Throughput = { rounds: EngineRound[]; rawJobsPerS: number[]; rawCpu: Cpu[]; flow: FlowRound[] };

async function throughputRounds(manifestsDir: string): Promise<Throughput> {
  log(`== 1. Throughput: ${JOBS} jobs × ${STEPS_PER_JOB} steps (zero-latency sandbox steps), worker concurrency ${CONCURRENCY}, ${ROUNDS} rounds ==`);
  const raw = await startRawBullMQ();
  const flowPeer = await startFlowPeer({
    redisUrl: REDIS_URL,
    redis,
    prefix: `${prefixRoot}f`,
    concurrency: CONCURRENCY,
    removeOnComplete: REMOVE_ON_COMPLETE,
    onError,
  });
  rawClosers.push(() => flowPeer.close());
  const warmRaw = Math.max(500, WARMUP_JOBS * STEPS_PER_JOB);
  await engineRound({ name: 'w', manifestsDir, jobs: WARMUP_JOBS, submit: 'direct', timeStore: false });
  await raw.round(warmRaw);
  await flowPeer.round(WARMUP_JOBS * 5);
  log(`warm-up: ${WARMUP_JOBS} engine jobs, ${warmRaw} raw BullMQ jobs, ${WARMUP_JOBS * 5} FlowProducer jobs`);

  const rounds: EngineRound[] = [];
  const rawJobsPerS: number[] = [];
  const rawCpu: Cpu[] = [];
  const flow: FlowRound[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const b = await raw.round(JOBS * STEPS_PER_JOB);
    const e = await engineRound({ name: `e${r}`, manifestsDir, jobs: JOBS, submit: 'direct', timeStore: false });
    const f = await flowPeer.round(JOBS);
    rounds.push(e);
    rawJobsPerS.push(b.jobsPerS);
    rawCpu.push(b.cpu);
    flow.push(f);
    log(
      `round ${r}: raw BullMQ ${JOBS * STEPS_PER_JOB} jobs → ${fixed(b.jobsPerS)} jobs/s (CPU/job: node ${fixed(b.cpu.nodeUs)} µs, redis ${fixed(b.cpu.redisUs)} µs)` +
        ` | engine ${JOBS} jobs live ${e.windowMs} ms after release → ${fixed(e.jobsPerS)} jobs/s, ${fixed(e.stepsPerS)} steps/s = ${fixed(e.stepsPerS / b.jobsPerS, 3)} of raw` +
        ` (CPU/step: node ${fixed(e.cpu.nodeUs)} µs, redis ${fixed(e.cpu.redisUs)} µs, store ${fixed(e.storeUs)} µs; ${e.loopNote})` +
        ` | FlowProducer ${JOBS} jobs by levels ${fixed(f.windowMs)} ms → ${fixed(f.stepsPerS)} steps/s = ${fixed(f.stepsPerS / b.jobsPerS, 3)} of raw` +
        ` (CPU/step: node ${fixed(f.cpu.nodeUs)} µs, redis ${fixed(f.cpu.redisUs)} µs)`,
    );
  }
  for (const close of rawClosers.splice(0)) await close();
  return { rounds, rawJobsPerS, rawCpu, flow };
}

/** Submission through app.service.provision, then the same engine run, then the store lag. Last: it is the long one. */
async function provisionRound(manifestsDir: string): Promise<EngineRound> {
  log();
  log(`== 1 (continued). Submission and store lag: ${JOBS} jobs through app.service.provision, then the same engine run ==`);
  const p = await engineRound({ name: 'p', manifestsDir, jobs: JOBS, submit: 'provision', timeStore: true });
  log(
    `submitted ${p.jobs} jobs in ${p.submitMs} ms (${fixed((p.jobs * 1000) / p.submitMs, 1)} jobs/s, ${PROVISION_CONCURRENCY} in flight` +
      `${p.jobs < JOBS ? '; stopped at the time budget' : ''}) | engine ${p.windowMs} ms → ${fixed(p.stepsPerS)} steps/s` +
      ` | store lag ${p.caughtUp ? '' : '(estimated: not caught up in the time budget) '}${fixed(p.storeLagMs)} ms`,
  );
  return p;
}

/** Scale-out: the throughput run worked by 1, 2 and 4 `provisioner worker --roles steps` processes and a recorder process. */
async function scaleRun(manifestsDir: string): Promise<ScaleFigures> {
  log();
  log(`== 1 (continued). Scale-out: ${JOBS} jobs worked by separate \`provisioner worker\` processes (concurrency ${CONCURRENCY} each) ==`);
  const t0 = Date.now();
  const figures = await scaleScenario({
    redis,
    prefix: `${prefixRoot}x`,
    mongoDb: `${mongoDbRoot}_x`,
    manifestsDir,
    jobs: JOBS,
    concurrency: CONCURRENCY,
    runId,
    log,
    onError,
    track: (db) => mongoDbs.push(db),
    started: (stop) => rawClosers.push(stop),
  });
  log(`(scale-out took ${fixed((Date.now() - t0) / 1000, 1)} s)`);
  return figures;
}

// ------------------------------------------------------------------ scenario 2: scheduling latency

/** Scheduling latencies (ms); dispatch, pickup and prelude split those of queued steps, carried those of steps carried on. */
type Scheduling = { latencies: number[]; roots: number; dispatch: number[]; pickup: number[]; prelude: number[]; carried: number[] };

async function schedulingScenario(): Promise<Scheduling> {
  log();
  log(`== 2. Scheduling latency: ${SCHED_JOBS} jobs over ~${SCHED_SPREAD_MS} ms, steps 20–200 ms, worker concurrency ${SCHED_CONCURRENCY} ==`);
  const dir = manifestsDirWith(pipelineYaml((id) => SCHED_LATENCY_MS[id] ?? 20));
  manifestDirs.push(dir);
  const prefix = `${prefixRoot}s`;
  const mongoDb = `${mongoDbRoot}_s`;
  mongoDbs.push(mongoDb);
  const app = await startApp({ prefix, mongoDb, manifestsDir: dir, concurrency: SCHED_CONCURRENCY, runWorkers: true, onError });
  apps.push(app);

  const warm = Array.from({ length: 5 }, () => engineJobFor(app, starterDeal(runId)));
  await Promise.all(warm.map(({ definition, event }) => app.engine.createJob(definition, event)));
  await waitForSinks(
    redis,
    app.engine.keys.jobState,
    warm.map((w) => w.definition.jobId),
    { timeoutMs: 30_000, pollMs: 20 },
  );

  // Jobs reach the engine as provision hands them over, at their arrival
  // times; provision's own MongoDB writes (timed in scenario 1) would stretch
  // ~1 s of arrivals over many seconds on FerretDB.
  const arrivals = Array.from({ length: SCHED_JOBS }, () => engineJobFor(app, starterDeal(runId)));
  const profile = await profileWindow('scheduling', redis);
  const cpu = await cpuMeter(redis);
  const cpu0 = process.cpuUsage();
  const store0 = storeCpuMs(portOf(MONGODB_URI, 27017));
  const t0 = Date.now();
  const loop = loopDelay();
  const ping = redisPing();
  const creates: Promise<boolean>[] = [];
  for (const [i, { definition, event }] of arrivals.entries()) {
    const wait = t0 + (i * SCHED_SPREAD_MS) / SCHED_JOBS - Date.now();
    if (wait > 0) await sleep(wait);
    creates.push(app.engine.createJob(definition, { ...event, at: Date.now() }));
  }
  await Promise.all(creates);
  const arrivedMs = Date.now() - t0;
  const jobIds = arrivals.map((a) => a.definition.jobId);
  const finished = await waitForSinks(redis, app.engine.keys.jobState, jobIds, { timeoutMs: 60_000, pollMs: 20 });
  await profile.stop();
  const used = await cpu.stop();
  const storeMs = storeCpuMs(portOf(MONGODB_URI, 27017)) - store0;
  const allLive = Math.max(...finished.values()) - t0;
  log(`${SCHED_JOBS} jobs arrived over ${arrivedMs} ms; all live ${allLive} ms after the first (${loop.stop()}; ${await ping.stop()})`);
  log(
    `  CPU over those ${allLive} ms on ${os.availableParallelism()} cores: this process ${fixed(used.nodeMs)} ms (system ${fixed(process.cpuUsage(cpu0).system / 1000)}), redis-server ${fixed(used.redisMs)} ms, the store ${fixed(storeMs)} ms`,
  );

  // st:<step> − max(ft:<need>) from the job hashes, plus where that time went,
  // from the step's BullMQ job (timestamp = added by the dispatcher, processedOn = picked up).
  const pipe = redis.pipeline();
  for (const id of jobIds) pipe.hgetall(app.engine.keys.jobState(id));
  const hashes = ((await pipe.exec()) ?? []).map(([, value]) =>
    value !== null && typeof value === 'object' ? new Map(Object.entries(value)) : new Map<string, unknown>(),
  );
  const num = (hash: Map<string, unknown>, key: string): number => Number(hash.get(key));
  const latencies: number[] = [];
  const stepRefs: { key: string; released: number; started: number }[] = [];
  let roots = 0;
  jobIds.forEach((jobId, i) => {
    const hash = hashes[i] ?? new Map<string, unknown>();
    for (const step of GRAPH) {
      if (step.needs.length === 0) {
        roots += 1;
        continue;
      }
      const released = Math.max(...step.needs.map((n) => num(hash, stepField('finishedAt', n))));
      const started = num(hash, stepField('startedAt', step.id));
      latencies.push(started - released);
      const ticket = num(hash, stepField('ticket', step.id));
      stepRefs.push({ key: `${prefix}:${STEP_QUEUE}:${queueJobId(jobId, { stepId: step.id, ticket, phase: 'run' })}`, released, started });
    }
  });
  const bull = redis.pipeline();
  for (const ref of stepRefs) bull.hmget(ref.key, 'timestamp', 'processedOn');
  const bullReplies = (await bull.exec()) ?? [];
  const dispatch: number[] = [];
  const pickup: number[] = [];
  const prelude: number[] = [];
  // A step its releasing worker carried on has no step job of its own: it started in the same slot.
  const carried: number[] = [];
  stepRefs.forEach((ref, i) => {
    const value = bullReplies[i]?.[1];
    if (!Array.isArray(value)) return;
    if (value[0] === null) {
      carried.push(ref.started - ref.released);
      return;
    }
    const added = Number(value[0]);
    const processedOn = Number(value[1]);
    if (!Number.isFinite(added) || !Number.isFinite(processedOn)) return;
    dispatch.push(added - ref.released);
    pickup.push(processedOn - added);
    prelude.push(ref.started - processedOn);
  });
  await closeApp(app);
  return { latencies: latencies.filter(Number.isFinite), roots, dispatch, pickup, prelude, carried };
}

/**
 * The staggered scenario BENCH_SCHED_RUNS times (default 3): one run's p99 moves a lot with whatever else the
 * machine does at that moment. Returns the run with the median p99, with every run's p99.
 */
async function schedulingRuns(): Promise<Scheduling & { p99s: number[] }> {
  const runs: Scheduling[] = [];
  for (let i = 0; i < SCHED_RUNS; i++) runs.push(await schedulingScenario());
  const p99 = (run: Scheduling) => percentile(run.latencies, 99);
  const sorted = [...runs].sort((a, b) => p99(a) - p99(b));
  const middle = sorted[Math.floor((sorted.length - 1) / 2)] ?? runs[0];
  if (!middle) throw new Error('no scheduling run');
  return { ...middle, p99s: runs.map(p99) };
}

/** Where a run's scheduling time went, p50 / p99 of queued and of carried steps. */
function schedulingSplit(sched: Scheduling): string {
  const ms = (values: readonly number[]) => (values.length === 0 ? '—' : `${fixed(percentile(values, 50))} / ${fixed(percentile(values, 99))}`);
  return (
    `where it goes (p50 / p99 ms): ${sched.dispatch.length} queued steps: last need finished → step job queued ${ms(sched.dispatch)}` +
    `; queued → fetched by a worker (processedOn) ${ms(sched.pickup)}; fetched → claimed (st) ${ms(sched.prelude)}` +
    `. ${sched.carried.length} steps carried on by the worker that released them (claimed in the same script): ${ms(sched.carried)}`
  );
}

// ------------------------------------------------------------------ scenario 3: memory

type Memory = { selfMb: number; redisMb: number; storeMb: number; lines: string[] };

async function memory(): Promise<Memory> {
  const selfMb = process.resourceUsage().maxRSS / 1024;
  const lines = [`bench process (engine, workers, recorder, raw BullMQ, FlowProducer): ${fixed(selfMb, 1)} MB peak (maxRSS)`];
  const redisPid = await redisServerPid(redis, portOf(REDIS_URL, 6379));
  const redisMb = redisPid === undefined ? undefined : vmHwmMb(redisPid);
  lines.push(
    redisMb === undefined
      ? 'redis-server: not found on this machine'
      : `redis-server (pid ${redisPid}): ${fixed(redisMb, 1)} MB peak (VmHWM, since the server started)`,
  );
  const mongoPid = mongoServerPid(portOf(MONGODB_URI, 27017));
  const mongoMb = mongoPid === undefined ? undefined : vmHwmMb(mongoPid);
  lines.push(
    mongoMb === undefined
      ? 'MongoDB-wire server (FerretDB/mongod): not found on this machine'
      : `MongoDB-wire server (pid ${mongoPid}): ${fixed(mongoMb, 1)} MB peak (VmHWM, since the server started)`,
  );
  return { selfMb, redisMb: redisMb ?? Number.NaN, storeMb: mongoMb ?? Number.NaN, lines };
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  await mongo.connect();
  log(`engine benchmark: run ${runId}, Redis ${new URL(REDIS_URL).host}, Node ${process.version}`);
  log();
  if (ONLY === 'api') return apiOnly();
  if (ONLY === 'store') return storeOnly();
  if (ONLY === 'kpi') return kpiOnly();
  if (ONLY === 'scale') return scaleOnly();
  if (ONLY === 'sched') return schedOnly();
  const manifestsDir = manifestsDirWith(pipelineYaml(() => 0));
  manifestDirs.push(manifestsDir);
  if (ONLY === 'submit') return submitOnly(manifestsDir);
  if (ONLY !== undefined) throw new Error(`BENCH_ONLY=${ONLY}: the parts that run alone are api, store, kpi, scale, sched and submit`);
  const tp = await throughputRounds(manifestsDir);
  const sched = await schedulingRuns();
  const p = WITH_PROVISION ? await provisionRound(manifestsDir) : undefined;
  const scale = WITH_SCALE ? await scaleRun(manifestsDir) : undefined;
  // Before the control room seeds a million audit entries: the store is busy for minutes after that.
  const submit = WITH_SUBMIT ? await submissionSection(manifestsDir) : undefined;
  log();
  log('== 3. Slack: /provision ack latency while 100 jobs run; Slack calls per 10-step job ==');
  const slack = await slackScenario(log);
  log();
  log('== 4. The control room with a long history: jobs list, KPI page and audit lookups ==');
  const kpi = WITH_KPI ? await controlRoom() : undefined;
  log();
  log('== 5. The HTTP API: POST /api/v1/provisioning-requests → 202 while 100 jobs run ==');
  const api = await apiScenario(log);
  log();
  log('== 6. Billing: webhook → flags applied, 100 tenants at once ==');
  const track = (db: string, dir: string) => {
    mongoDbs.push(db, db.replace('bench_billing_', 'bench_billing_shared_'));
    manifestDirs.push(dir);
  };
  const billing = WITH_BILLING ? await billingScenario({ runId, mongo, log, track, onError }) : undefined;
  const mem = await memory();

  const engineJobsPerS = median(tp.rounds.map((r) => r.jobsPerS));
  const engineStepsPerS = median(tp.rounds.map((r) => r.stepsPerS));
  const rawJobsPerS = median(tp.rawJobsPerS);
  const ratio = engineStepsPerS / rawJobsPerS;
  const flowStepsPerS = median(tp.flow.map((f) => f.stepsPerS));
  const engineVsFlow = engineStepsPerS / flowStepsPerS;
  const storeLagMs = p?.storeLagMs ?? Number.NaN;
  const p50 = percentile(sched.latencies, 50);
  const p99 = percentile(sched.latencies, 99);

  log();
  log('== Results (medians of the rounds) ==');
  log(
    `engine:      ${fixed(engineJobsPerS)} jobs/s = ${fixed(engineStepsPerS)} steps/s (all ${JOBS} jobs created, then released; until the last job live; each zero-latency step still writes its sandbox ledger key in Redis)`,
  );
  log(
    `raw BullMQ:  ${fixed(rawJobsPerS)} jobs/s (${JOBS * STEPS_PER_JOB} bare jobs queued by addBulk, then released; empty processor, concurrency ${CONCURRENCY})`,
  );
  log(`ratio:       ${fixed(ratio, 3)} engine steps/s ÷ raw BullMQ jobs/s   target ≥ ${TARGET_RATIO}   ${verdict(ratio >= TARGET_RATIO)}`);
  const nodeUs = median(tp.rounds.map((r) => r.cpu.nodeUs));
  const redisUs = median(tp.rounds.map((r) => r.cpu.redisUs));
  const rawNodeUs = median(tp.rawCpu.map((c) => c.nodeUs));
  const rawRedisUs = median(tp.rawCpu.map((c) => c.redisUs));
  const flowNodeUs = median(tp.flow.map((f) => f.cpu.nodeUs));
  const flowRedisUs = median(tp.flow.map((f) => f.cpu.redisUs));
  log(
    `CPU cost:    per engine step node ${fixed(nodeUs)} µs + redis ${fixed(redisUs)} µs; per raw BullMQ job node ${fixed(rawNodeUs)} µs + redis ${fixed(rawRedisUs)} µs` +
      ` → CPU-bound estimate of the ratio ${fixed(Math.max(rawNodeUs, rawRedisUs) / Math.max(nodeUs, redisUs), 3)} (busiest process each; moves less with other load on the machine)`,
  );
  log(
    `FlowProducer: ${fixed(flowStepsPerS)} steps/s = ${fixed(flowStepsPerS / rawJobsPerS, 3)} of raw (BullMQ flows by levels: ${LEVELS.length} barrier jobs + ${STEPS_PER_JOB} step jobs a job, steps counted;` +
      ` records nothing) CPU per step node ${fixed(flowNodeUs)} µs + redis ${fixed(flowRedisUs)} µs`,
  );
  log(
    `engine/flow: ${fixed(engineVsFlow, 3)} engine steps/s ÷ FlowProducer steps/s   target ≥ ${TARGET_VS_FLOW}   ${verdict(engineVsFlow >= TARGET_VS_FLOW)}` +
      ` (CPU-bound estimate ${fixed(Math.max(flowNodeUs, flowRedisUs) / Math.max(nodeUs, redisUs), 3)})`,
  );
  if (p) {
    for (const line of storeLagLines(p, await storeName(mongo))) log(line);
    log(
      `cross-check: engine with full store records (provision round) ${fixed(p.stepsPerS)} steps/s = ${fixed(p.stepsPerS / rawJobsPerS, 3)} of raw`,
    );
  } else {
    log('store lag:   not measured (BENCH_PROVISION=0)');
  }
  log(
    `scheduling:  p50 ${fixed(p50, 1)} ms, p99 ${fixed(p99, 1)} ms over ${sched.latencies.length} steps with dependencies (${sched.roots} root steps have none)` +
      ` in the median of ${sched.p99s.length} runs (p99 ${sched.p99s.map((x) => fixed(x, 1)).join(', ')} ms)   target p99 ≤ ${TARGET_P99_MS} ms   ${verdict(p99 <= TARGET_P99_MS)}`,
  );
  log(`  ${schedulingSplit(sched)}`);
  log(
    `slack ack:   p50 ${fixed(slack.ackP50, 1)} ms, p99 ${fixed(slack.ackP99, 1)} ms over ${slack.acks} signed /provision requests while 100 jobs ran   target p99 < ${TARGET_ACK_P99_MS} ms   ${verdict(slack.ackP99 < TARGET_ACK_P99_MS)}`,
  );
  log(`slack calls: ${slack.callsPerJob} per 10-step job (${slack.callsDetail}; the progress message is edited at most about once a second)`);
  for (const line of kpi ? kpiFiguresLines(kpi) : ['control room: not measured (BENCH_KPI=0)']) log(line);
  for (const line of billing ? billingFiguresLines(billing) : ['billing: not measured (BENCH_BILLING=0)']) log(line);
  for (const line of apiFiguresLines(api)) log(line);
  for (const line of scale ? scaleFiguresLines(scale, engineStepsPerS) : ['scale-out: not measured (BENCH_SCALE=0)']) log(line);
  for (const line of submit ? submitFiguresLines(submit) : ['submission:  not measured (BENCH_SUBMIT=0)']) log(line);
  for (const line of mem.lines) log(`peak RSS:    ${line}`);
  for (const line of scale ? scaleMemoryLines(scale) : []) log(`peak RSS:    ${line}`);
  if (engineErrors > 0) log(`engine errors reported: ${engineErrors} (first 5 on stderr)`);
  log(`total time:  ${fixed((Date.now() - startedAt) / 1000, 1)} s`);
  log(
    `bench: jobs=${JOBS} steps_per_job=${STEPS_PER_JOB} engine_jobs_per_s=${fixed(engineJobsPerS, 1)} engine_steps_per_s=${fixed(engineStepsPerS, 1)}` +
      ` bullmq_jobs_per_s=${fixed(rawJobsPerS, 1)} ratio=${fixed(ratio, 3)}` +
      ` flow_steps_per_s=${fixed(flowStepsPerS, 1)} engine_vs_flow=${fixed(engineVsFlow, 3)}` +
      ` engine_node_us_per_step=${fixed(nodeUs)} engine_redis_us_per_step=${fixed(redisUs)} bullmq_node_us_per_job=${fixed(rawNodeUs)} bullmq_redis_us_per_job=${fixed(rawRedisUs)}` +
      ` flow_node_us_per_step=${fixed(flowNodeUs)} flow_redis_us_per_step=${fixed(flowRedisUs)}` +
      ` sched_p50_ms=${fixed(p50, 1)} sched_p99_ms=${fixed(p99, 1)} sched_p99s_ms=${sched.p99s.map((x) => fixed(x, 1)).join(',')}` +
      ` store_lag_ms=${fixed(storeLagMs, 0)} peak_rss_mb=${fixed(mem.selfMb, 1)}` +
      ` redis_rss_mb=${fixed(mem.redisMb, 1)} store_rss_mb=${fixed(mem.storeMb, 1)} ${scaleBenchFields(scale)}` +
      ` ack_p50_ms=${fixed(slack.ackP50, 1)} ack_p99_ms=${fixed(slack.ackP99, 1)} slack_calls_per_job=${slack.callsPerJob}` +
      ` kpi_jobs=${kpi?.jobs ?? 0} kpi_audit_events=${kpi?.events ?? 0} admin_p50_ms=${fixed(kpi?.admin.p50 ?? Number.NaN, 1)} admin_p99_ms=${fixed(kpi?.admin.p99 ?? Number.NaN, 1)}` +
      ` kpi_p50_ms=${fixed(kpi?.kpis.p50 ?? Number.NaN, 1)} kpi_p99_ms=${fixed(kpi?.kpis.p99 ?? Number.NaN, 1)}` +
      ` audit_p50_ms=${fixed(kpi?.audit.p50 ?? Number.NaN, 1)} audit_p99_ms=${fixed(kpi?.audit.p99 ?? Number.NaN, 1)}` +
      ` billing_applied_p50_ms=${fixed(billing?.applied.p50 ?? Number.NaN)} billing_applied_p99_ms=${fixed(billing?.applied.p99 ?? Number.NaN)}` +
      ` ${apiBenchFields(api)}${submit ? ` ${submitBenchFields(submit)}` : ''}`,
  );
}

/** The store lag of the provision round, with submission beside it (both write MongoDB; neither is in the engine figure). */
function storeLagLines(p: EngineRound, store: string): string[] {
  return [
    `store lag:   ${fixed(p.storeLagMs)} ms${p.caughtUp ? '' : ' (estimated from the recorder pace: not caught up in the time budget)'} from the last job live` +
      ` until the recorder had acknowledged every event and MongoDB showed every job live (provision round; ${store})   target ≤ ${TARGET_STORE_LAG_MS} ms   ${verdict(p.storeLagMs <= TARGET_STORE_LAG_MS)}`,
    `submission:  ${fixed((p.jobs * 1000) / p.submitMs, 1)} jobs/s through app.service.provision (writes MongoDB; not in the engine figure);` +
      ` so "first submit → all live" for ${p.jobs} jobs is bounded by submission (${p.submitMs} ms), not by the engine (${p.windowMs} ms)`,
  ];
}

/** Only the provision round: submission, the engine with full store records, and the store lag. */
async function storeOnly(): Promise<void> {
  const manifestsDir = manifestsDirWith(pipelineYaml(() => 0));
  manifestDirs.push(manifestsDir);
  const p = await provisionRound(manifestsDir);
  const mem = await memory();
  log();
  for (const line of storeLagLines(p, await storeName(mongo))) log(line);
  for (const line of mem.lines) log(`peak RSS:    ${line}`);
  if (engineErrors > 0) log(`engine errors reported: ${engineErrors} (first 5 on stderr)`);
  log(
    `bench: jobs=${p.jobs} store_lag_ms=${fixed(p.storeLagMs, 0)} store_caught_up=${p.caughtUp} provision_steps_per_s=${fixed(p.stepsPerS, 1)}` +
      ` submit_jobs_per_s=${fixed((p.jobs * 1000) / p.submitMs, 1)} peak_rss_mb=${fixed(mem.selfMb, 1)}`,
  );
}

async function controlRoom(): Promise<KpiFigures> {
  const track = (db: string, dir: string) => {
    mongoDbs.push(db);
    manifestDirs.push(dir);
  };
  return kpiScenario({ runId, mongo, log, track, onError }, kpiSizes());
}

/** Only the control room with its seeded history: jobs list, KPI page and audit lookups. */
async function kpiOnly(): Promise<void> {
  log('== 4. The control room with a long history: jobs list, KPI page and audit lookups ==');
  const kpi = await controlRoom();
  for (const line of kpiFiguresLines(kpi)) log(line);
  log(
    `bench: kpi_jobs=${kpi.jobs} kpi_audit_events=${kpi.events} admin_p99_ms=${fixed(kpi.admin.p99, 1)} kpi_p99_ms=${fixed(kpi.kpis.p99, 1)}` +
      ` audit_p50_ms=${fixed(kpi.audit.p50, 1)} audit_p99_ms=${fixed(kpi.audit.p99, 1)}`,
  );
}

function scaleFiguresLines(scale: ScaleFigures, inProcessStepsPerS: number): string[] {
  const one = scale.stages[0]?.stepsPerS ?? Number.NaN;
  const stages = scale.stages.map(
    (s) =>
      `${s.processes} → ${fixed(s.stepsPerS)} steps/s (×${fixed(s.stepsPerS / one, 2)}; CPU/step workers ${fixed(s.cpu.nodeUs)} µs + redis ${fixed(s.cpu.redisUs)} µs)`,
  );
  return [
    `scale-out:   steps processes (concurrency ${CONCURRENCY} each) + 1 recorder process: ${stages.join(', ')}; one process, every role: ${fixed(scale.allRoles.stepsPerS)} steps/s;` +
      `${Number.isFinite(inProcessStepsPerS) ? ` all in the bench process (throughput rounds): ${fixed(inProcessStepsPerS)} steps/s;` : ''} 1 round each, ${os.availableParallelism()} cores`,
  ];
}

function scaleMemoryLines(scale: ScaleFigures): string[] {
  const lines = scale.memory.map(
    (m) =>
      `provisioner worker (${m.name}, pid ${m.pid}): ${fixed(m.peakMb, 1)} MB peak (VmHWM; ${fixed(m.startedMb, 1)} MB of it reached while starting)`,
  );
  return [
    ...lines,
    `the process running workers + recorder + notifier for ${JOBS} jobs: ${fixed(scale.allRolesMb, 1)} MB   target ≤ ${TARGET_RSS_MB} MB   ${verdict(scale.allRolesMb <= TARGET_RSS_MB)}`,
  ];
}

/** scale_N (steps/s with N steps processes and a recorder) and each worker process's peak RSS. */
function scaleBenchFields(scale: ScaleFigures | undefined): string {
  if (!scale) return 'scale_1=nan scale_2=nan scale_4=nan';
  const peak = (prefix: string) => Math.max(...scale.memory.filter((m) => m.name.startsWith(prefix)).map((m) => m.peakMb));
  return [
    ...scale.stages.map((s) => `scale_${s.processes}=${fixed(s.stepsPerS, 1)}`),
    `scale_all_roles=${fixed(scale.allRoles.stepsPerS, 1)}`,
    `steps_process_rss_mb=${fixed(peak('steps'), 1)} recorder_process_rss_mb=${fixed(peak('recorder'), 1)} all_roles_rss_mb=${fixed(scale.allRolesMb, 1)}` +
      ` all_roles_started_rss_mb=${fixed(scale.memory.find((m) => m.name === 'all roles')?.startedMb ?? Number.NaN, 1)}`,
  ].join(' ');
}

async function submissionSection(manifestsDir: string): Promise<SubmitFigures> {
  log();
  log('== 1 (continued). Submission at API speed: app.service.provision one at a time and 20 callers at once, against a bare insert ==');
  return submitScenario({ runId, mongo, redis, mongoUri: MONGODB_URI, manifestsDir, log, track: (db) => mongoDbs.push(db), onError });
}

/** Only the submission scenario, with its own bench line. */
async function submitOnly(manifestsDir: string): Promise<void> {
  const submit = await submissionSection(manifestsDir);
  for (const line of submitFiguresLines(submit)) log(line);
  log(`bench: ${submitBenchFields(submit)}`);
}

function apiFiguresLines(api: ApiFigures): string[] {
  const store = `store: ${new URL(MONGODB_URI).host}`;
  const line = (name: string, f: ApiFigures['inProcess']) =>
    `api 202:     ${name}: p50 ${fixed(f.p50, 1)} ms, p99 ${fixed(f.p99, 1)} ms, max ${fixed(f.max, 1)} ms over ${f.requests} requests while 100 jobs ran` +
    ` (before them: p50 ${fixed(f.idleP50, 1)} ms, p99 ${fixed(f.idleP99, 1)} ms; server event loop delay p99 ${fixed(f.loopP99, 1)} ms; ${store})` +
    `   target p99 ≤ ${TARGET_API_P99_MS} ms   ${verdict(f.p99 <= TARGET_API_P99_MS)}`;
  return [line('workers in the server process', api.inProcess), line('workers in their own process', api.ownProcess)];
}

/** api_p50_ms/api_p99_ms as `provisioner serve` runs by default (workers in process); the other layout beside them. */
function apiBenchFields(api: ApiFigures): string {
  const { inProcess: a, ownProcess: b } = api;
  return (
    `api_p50_ms=${fixed(a.p50, 1)} api_p99_ms=${fixed(a.p99, 1)} api_idle_p99_ms=${fixed(a.idleP99, 1)}` +
    ` api_own_workers_p50_ms=${fixed(b.p50, 1)} api_own_workers_p99_ms=${fixed(b.p99, 1)}`
  );
}

/** Only the HTTP API scenario, with its own bench line. */
async function apiOnly(): Promise<void> {
  log('== 5. The HTTP API: POST /api/v1/provisioning-requests → 202 while 100 jobs run ==');
  const api = await apiScenario(log);
  const mem = await memory();
  for (const line of apiFiguresLines(api)) log(line);
  for (const line of mem.lines) log(`peak RSS:    ${line}`);
  log(`bench: ${apiBenchFields(api)} peak_rss_mb=${fixed(mem.selfMb, 1)}`);
}

/** The staggered scheduling scenario alone (BENCH_SCHED_RUNS times). */
async function schedOnly(): Promise<void> {
  const sched = await schedulingRuns();
  log(
    `scheduling:  p99 of each run ${sched.p99s.map((x) => fixed(x, 1)).join(', ')} ms; the median run: p50 ${fixed(percentile(sched.latencies, 50), 1)} ms`,
  );
  log(`  ${schedulingSplit(sched)}`);
  log(
    `bench: sched_runs=${sched.p99s.length} sched_p99_ms=${fixed(percentile(sched.latencies, 99), 1)} sched_p99s_ms=${sched.p99s.map((x) => fixed(x, 1)).join(',')}`,
  );
}

/** Only the scale-out scenario, with its own bench line. */
async function scaleOnly(): Promise<void> {
  const manifestsDir = manifestsDirWith(pipelineYaml(() => 0));
  manifestDirs.push(manifestsDir);
  const scale = await scaleRun(manifestsDir);
  const mem = await memory();
  for (const line of scaleFiguresLines(scale, Number.NaN)) log(line);
  for (const line of [...mem.lines, ...scaleMemoryLines(scale)]) log(`peak RSS:    ${line}`);
  log(
    `bench: jobs=${JOBS} ${scaleBenchFields(scale)} peak_rss_mb=${fixed(mem.selfMb, 1)} redis_rss_mb=${fixed(mem.redisMb, 1)} store_rss_mb=${fixed(mem.storeMb, 1)}`,
  );
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 1000} s; cleaning up and stopping`);
  void Promise.race([cleanup(), sleep(20_000)]).finally(() => process.exit(2));
}, WATCHDOG_MS);
watchdog.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void Promise.race([cleanup(), sleep(15_000)]).finally(() => process.exit(130)));
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error('bench failed:', err);
  exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(exitCode);
