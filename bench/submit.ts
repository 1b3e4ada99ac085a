/**
 * Submission at API speed: new deals through app.service.provision (what the
 * HTTP API, Salesforce and Slack call), one caller at a time and 20 callers
 * at once, on a store that already holds BENCH_SUBMIT_HISTORY jobs (default
 * 2,000; a store with some history, so a lookup that scans shows it).
 *
 * Baseline in the same run, interleaved with the provision rounds: a bare
 * insertOne of the same job document (jobDocOf) into the same jobs
 * collection (same indexes), one at a time and 20 at once. Each figure is the median of
 * BENCH_ROUNDS rounds of BENCH_SUBMIT_JOBS deals (default 200), with CPU per
 * job of this process, redis-server and the MongoDB-wire server beside it.
 *
 * Last, a check that is not timed: 20 concurrent provisions of one deal give
 * exactly one job (and a changed copy of the deal is refused).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Redis } from 'ioredis';
import type { Collection, MongoClient } from 'mongodb';
import { jobDocOf } from '../src/adapters/mongo-store.ts';
import { OpportunityTakenError } from '../src/domain/errors.ts';
import { initialJobView } from '../src/domain/job-view.ts';
import { REQUESTER } from '../test/support/people.ts';
import { deleteKeys, engineJobFor, fixed, median, mongoServerPid, pool, portOf, starterDeal, startApp, type BenchApp } from './lib.ts';

export const SUBMIT_CALLERS = 20;
const CORES = availableParallelism();

export type SubmitFigures = {
  store: string;
  history: number;
  jobs: number;
  /** Medians of the rounds, jobs/s. */
  sequential: number;
  concurrent: number;
  insertSequential: number;
  insertConcurrent: number;
  /** CPU ms per submitted job (median of the rounds): this process, redis-server, the MongoDB-wire server (and its PostgreSQL). */
  cpu: { sequential: Cpu; concurrent: Cpu };
  duplicates: { callers: number; jobs: number; created: number; existing: number; refused: number };
};

type Cpu = { node: number; redis: number; store: number };
type Rounds = { seq: number[]; conc: number[]; insSeq: number[]; insConc: number[]; cpuSeq: Cpu[]; cpuConc: Cpu[] };

type Deps = {
  runId: string;
  mongo: MongoClient;
  redis: Redis;
  mongoUri: string;
  manifestsDir: string;
  log(line?: string): void;
  track(db: string): void;
  onError(err: unknown): void;
};

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** utime + stime of a process and its direct children (FerretDB's PostgreSQL backends), in ms; 0 when unreadable. */
function processTreeCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const statOf = (p: string): string[] | undefined => {
    try {
      return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ');
    } catch {
      return undefined;
    }
  };
  const ticks = (fields: string[] | undefined): number => (fields ? Number(fields[11]) + Number(fields[12]) : 0);
  let total = ticks(statOf(String(pid)));
  const postgres = postmasterOf(pid);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const fields = statOf(p);
    if (postgres !== undefined && (p === String(postgres) || fields?.[1] === String(postgres))) total += ticks(fields);
  }
  return total * 10; // USER_HZ is 100 on Linux
}

/** The PostgreSQL under FerretDB, from its -postgresql-url port, when it runs on this machine. */
function postmasterOf(ferretPid: number): number | undefined {
  try {
    const cmdline = readFileSync(`/proc/${ferretPid}/cmdline`, 'utf8').split('\0');
    const url = cmdline[cmdline.indexOf('-postgresql-url') + 1];
    const port = url ? new URL(url).port : '';
    if (!port) return undefined;
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        const args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        if (args[0]?.endsWith('/postgres') && args.includes('-p') && args[args.indexOf('-p') + 1] === port) return Number(p);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // not FerretDB, or not readable
  }
  return undefined;
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = ['used_cpu_sys', 'used_cpu_user'].reduce((acc, k) => acc + Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0), 0);
  return seconds * 1000;
}

/** Runs `work` over `count` items with `callers` in flight; jobs/s and CPU per item. */
async function timed(deps: Deps, storePid: number | undefined, count: number, run: () => Promise<unknown>): Promise<{ perS: number; cpu: Cpu }> {
  const node0 = process.cpuUsage();
  const redis0 = await redisCpuMs(deps.redis);
  const store0 = processTreeCpuMs(storePid);
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const node = process.cpuUsage(node0);
  const cpu = {
    node: (node.user + node.system) / 1000 / count,
    redis: ((await redisCpuMs(deps.redis)) - redis0) / count,
    store: (processTreeCpuMs(storePid) - store0) / count,
  };
  return { perS: (count * 1000) / ms, cpu };
}

async function storeName(mongo: MongoClient): Promise<string> {
  const info = await mongo.db('admin').command({ buildInfo: 1 });
  if ('ferretdbFeatures' in info) return `FerretDB on ${process.env['FERRETDB_HANDLER'] ?? 'postgresql'}`;
  return `MongoDB ${String(info['version'])}`;
}

/** Jobs as MongoJobStore stores them, straight into the collection in batches: the history the new deals join. */
async function seedHistory(app: BenchApp, jobs: Collection<{ _id: string }>, runId: string, count: number): Promise<void> {
  for (let first = 0; first < count; first += 500) {
    const docs = Array.from({ length: Math.min(500, count - first) }, () => {
      const { definition } = engineJobFor(app, starterDeal(runId));
      const at = new Date();
      return jobDocOf({ definition, view: initialJobView(definition), createdAt: at, updatedAt: at });
    });
    await jobs.insertMany(docs);
  }
}

/** 20 callers send the same deal at once (a CRM retrying, a double click), then a changed copy: one job, the rest answered with it. */
async function duplicates(app: BenchApp, runId: string): Promise<SubmitFigures['duplicates']> {
  const deal = starterDeal(runId);
  const answers = await Promise.allSettled(Array.from({ length: SUBMIT_CALLERS }, () => app.service.provision({ ...deal }, REQUESTER)));
  const changed = await app.service.provision({ ...deal, contractValue: 1 }, REQUESTER).then(
    () => 'accepted',
    (err: unknown) => (err instanceof OpportunityTakenError ? 'refused' : 'failed'),
  );
  const jobIds = new Set(answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value.job.jobId] : [])));
  const stored = (await app.store.jobSummaries()).filter((j) => j.crmOpportunityId === deal['crmOpportunityId']);
  return {
    callers: SUBMIT_CALLERS,
    jobs: Math.max(jobIds.size, stored.length),
    created: answers.filter((a) => a.status === 'fulfilled' && a.value.outcome === 'created').length,
    existing: answers.filter((a) => a.status === 'fulfilled' && a.value.outcome === 'existing').length,
    refused: changed === 'refused' ? 1 : 0,
  };
}

export async function submitScenario(deps: Deps): Promise<SubmitFigures> {
  const history = positiveInt(process.env['BENCH_SUBMIT_HISTORY'], 2000);
  const jobs = positiveInt(process.env['BENCH_SUBMIT_JOBS'], 200);
  const rounds = positiveInt(process.env['BENCH_ROUNDS'], 3);
  const prefix = `benchsub${deps.runId}`;
  const db = `bench_${deps.runId}_submit`;
  deps.track(db);
  // An API-side process, as `provisioner serve` with its workers elsewhere: submission only.
  const app = await startApp({ prefix, mongoDb: db, manifestsDir: deps.manifestsDir, concurrency: 50, runWorkers: false, onError: deps.onError });
  try {
    const storePid = mongoServerPid(portOf(deps.mongoUri, 27017));
    // The baseline inserts into the jobs collection itself: same indexes, same size as what provision writes to.
    const bare = deps.mongo.db(db).collection<{ _id: string }>('jobs');
    await seedHistory(app, bare, deps.runId, history);
    const docsFor = (n: number) =>
      Array.from({ length: n }, () => {
        const { definition } = engineJobFor(app, starterDeal(deps.runId));
        const at = new Date();
        return jobDocOf({ definition, view: initialJobView(definition), createdAt: at, updatedAt: at });
      });
    // Warm-up: connections, JIT, the first writes of each collection.
    await pool(docsFor(20), 1, (doc) => bare.insertOne(doc));
    await pool(
      Array.from({ length: 20 }, () => starterDeal(deps.runId)),
      1,
      (deal) => app.service.provision(deal, REQUESTER),
    );
    const figures: Rounds = { seq: [], conc: [], insSeq: [], insConc: [], cpuSeq: [], cpuConc: [] };
    for (let r = 1; r <= rounds; r++) {
      const insSeq = docsFor(jobs);
      const insConc = docsFor(jobs);
      const i1 = await timed(deps, storePid, jobs, () => pool(insSeq, 1, (doc) => bare.insertOne(doc)));
      const seqDeals = Array.from({ length: jobs }, () => starterDeal(deps.runId));
      const p1 = await timed(deps, storePid, jobs, () => pool(seqDeals, 1, (deal) => app.service.provision(deal, REQUESTER)));
      const i2 = await timed(deps, storePid, jobs, () => pool(insConc, SUBMIT_CALLERS, (doc) => bare.insertOne(doc)));
      const concDeals = Array.from({ length: jobs }, () => starterDeal(deps.runId));
      const p2 = await timed(deps, storePid, jobs, () => pool(concDeals, SUBMIT_CALLERS, (deal) => app.service.provision(deal, REQUESTER)));
      figures.seq.push(p1.perS);
      figures.conc.push(p2.perS);
      figures.insSeq.push(i1.perS);
      figures.insConc.push(i2.perS);
      figures.cpuSeq.push(p1.cpu);
      figures.cpuConc.push(p2.cpu);
      deps.log(
        `round ${r}: provision ${fixed(p1.perS, 1)} jobs/s one at a time (bare insert ${fixed(i1.perS, 1)}/s),` +
          ` ${fixed(p2.perS, 1)} jobs/s with ${SUBMIT_CALLERS} callers (bare insert ${fixed(i2.perS, 1)}/s);` +
          ` CPU ms/job node ${fixed(p1.cpu.node, 2)} / ${fixed(p2.cpu.node, 2)}, redis ${fixed(p1.cpu.redis, 2)} / ${fixed(p2.cpu.redis, 2)},` +
          ` store ${fixed(p1.cpu.store, 2)} / ${fixed(p2.cpu.store, 2)}`,
      );
    }
    const medianCpu = (list: Cpu[]): Cpu => ({
      node: median(list.map((c) => c.node)),
      redis: median(list.map((c) => c.redis)),
      store: median(list.map((c) => c.store)),
    });
    return {
      store: await storeName(deps.mongo),
      history,
      jobs,
      sequential: median(figures.seq),
      concurrent: median(figures.conc),
      insertSequential: median(figures.insSeq),
      insertConcurrent: median(figures.insConc),
      cpu: { sequential: medianCpu(figures.cpuSeq), concurrent: medianCpu(figures.cpuConc) },
      duplicates: await duplicates(app, deps.runId),
    };
  } finally {
    await app.close();
    await deleteKeys(deps.redis, `${prefix}*`);
  }
}

const TARGET_SEQUENTIAL = 200;
const TARGET_CONCURRENT = 500;

export function submitFiguresLines(f: SubmitFigures): string[] {
  const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  // What the machine's cores could do if submission had them to itself: moves far less with other load than jobs/s.
  const cpu = (c: Cpu) =>
    `CPU ms/job node ${fixed(c.node, 2)}, redis ${fixed(c.redis, 2)}, store ${fixed(c.store, 2)}` +
    ` → CPU-bound estimate on ${CORES} cores ${fixed((CORES * 1000) / total(c))} jobs/s`;
  const d = f.duplicates;
  return [
    `submission:  ${fixed(f.sequential, 1)} jobs/s through app.service.provision one at a time = ${fixed(f.sequential / f.insertSequential, 2)}× a bare insert` +
      ` (${fixed(f.insertSequential, 1)}/s; ${cpu(f.cpu.sequential)})   target ≥ ${TARGET_SEQUENTIAL}   ${pass(f.sequential >= TARGET_SEQUENTIAL)}`,
    `             ${fixed(f.concurrent, 1)} jobs/s with ${SUBMIT_CALLERS} callers = ${fixed(f.concurrent / f.insertConcurrent, 2)}× a bare insert` +
      ` (${fixed(f.insertConcurrent, 1)}/s; ${cpu(f.cpu.concurrent)})   target ≥ ${TARGET_CONCURRENT}   ${pass(f.concurrent >= TARGET_CONCURRENT)}`,
    `             on ${f.store} holding ${f.history} earlier jobs; ${f.jobs} deals a round, medians of the rounds`,
    `duplicates:  ${d.callers} concurrent provisions of one deal → ${d.jobs} job (${d.created} created, ${d.existing} answered with it);` +
      ` a changed copy ${d.refused === 1 ? 'refused (opportunity taken)' : 'NOT refused'}   ${pass(d.jobs === 1 && d.created === 1 && d.refused === 1)}`,
  ];
}

const total = (c: Cpu): number => c.node + c.redis + c.store;

export function submitBenchFields(f: SubmitFigures): string {
  return (
    `submit_jobs_per_s=${fixed(f.sequential, 1)} submit_concurrent_jobs_per_s=${fixed(f.concurrent, 1)}` +
    ` submit_insert_per_s=${fixed(f.insertSequential, 1)} submit_concurrent_insert_per_s=${fixed(f.insertConcurrent, 1)}` +
    ` submit_vs_insert=${fixed(f.sequential / f.insertSequential, 3)} submit_concurrent_vs_insert=${fixed(f.concurrent / f.insertConcurrent, 3)}` +
    ` submit_cpu_ms_per_job=${fixed(total(f.cpu.sequential), 2)} submit_concurrent_cpu_ms_per_job=${fixed(total(f.cpu.concurrent), 2)}` +
    ` submit_duplicate_jobs=${f.duplicates.jobs}`
  );
}
