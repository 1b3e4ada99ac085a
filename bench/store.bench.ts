/**
 * `node bench/store.bench.ts`: how the audit lookup grows with history on the
 * local store, FerretDB on SQLite files against FerretDB on PostgreSQL, in
 * the same run (each on a server of its own, started like the local services
 * start them). Real MongoDB is not measured here (none can be installed on
 * this machine); with its indexes the lookups stay in milliseconds.
 *
 * History: audit entries of jobs with 25 entries each, written through the
 * store (appendAudit, 1000 at a time). At each size: the audit of one job
 * (the store's own query: by jobId, sorted by time, limit 200) and of one
 * tenant slug (find by tenantSlug, sorted by time, limit 200), p50 and p95 of
 * LOOKUPS random ones. BENCH_SIZES=10000,200000 by default.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { stateDir } from '../scripts/services/common.ts';
import { ensureMongo } from '../scripts/services/mongo.ts';
import { RUN_PREFIX, stopRun, type Run } from '../scripts/services/runs.ts';
import { MongoJobStore } from '../src/adapters/mongo-store.ts';
import type { AuditEntry } from '../src/domain/audit.ts';
import { fixed, median, percentile } from './lib.ts';

const SIZES = (process.env['BENCH_SIZES'] ?? '10000,200000').split(',').map(Number);
const LOOKUPS = Number(process.env['BENCH_LOOKUPS'] ?? 30);
const PER_JOB = 25;

type Figures = { size: number; byJob: number[]; bySlug: number[]; insertPerS: number };

/** What each test pays: a fresh database with the store's collections and indexes, and a first job. */
async function freshStoreMs(client: MongoClient): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const db = client.db(`store_bench_fresh_${i}`);
    times.push(
      await timed(() => new MongoJobStore(db).ensureIndexes().then(() => db.collection<{ _id: string }>('jobs').insertOne({ _id: 'job-1' }))),
    );
    await db.dropDatabase();
  }
  return times;
}

function entriesOf(job: number): AuditEntry[] {
  const start = Date.UTC(2026, 0, 1) + job * 60_000;
  return Array.from({ length: PER_JOB }, (_, i): AuditEntry => {
    const base = { id: `job-${job}:${start}-${i}`, jobId: `job-${job}`, tenantSlug: `tenant-${job}`, companyName: `Company ${job}`, actor: 'engine' };
    const at = new Date(start + i * 1000);
    if (i === 0) return { ...base, at, type: 'job.created', summary: `Job ${job} requested` };
    return { ...base, at, type: 'step.succeeded', stepId: `step_${i}`, summary: `Step ${i} of job ${job} done`, durationMs: 40 + i };
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function measure(handler: 'sqlite' | 'postgresql'): Promise<Figures[]> {
  const dir = join(stateDir, `${RUN_PREFIX}${process.pid}-store-bench-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const run: Run = { dir, persistent: false, started: [] };
  process.env['FERRETDB_HANDLER'] = handler;
  delete process.env['MONGODB_URI'];
  const server = await ensureMongo(run);
  const client = new MongoClient(server.url);
  try {
    const fresh = await freshStoreMs(client);
    console.log(`${handler.padEnd(10)} a fresh database with the store's indexes: p50 ${fixed(median(fresh))} ms`);
    const db = client.db('store_bench');
    const store = new MongoJobStore(db);
    await store.ensureIndexes();
    const audits = db.collection('audit');
    const figures: Figures[] = [];
    let jobs = 0;
    for (const size of SIZES) {
      const t0 = performance.now();
      const before = jobs;
      for (; jobs * PER_JOB < size; ) {
        const batch = Array.from({ length: 1000 / PER_JOB }, () => entriesOf(jobs++)).flat();
        await store.appendAudit(batch);
      }
      const insertPerS = ((jobs - before) * PER_JOB) / ((performance.now() - t0) / 1000);
      const pick = () => Math.floor(Math.random() * jobs);
      await store.audit({ jobIds: [`job-${pick()}`], limit: 200 }); // warm-up
      const byJob: number[] = [];
      const bySlug: number[] = [];
      for (let i = 0; i < LOOKUPS; i++) {
        byJob.push(await timed(() => store.audit({ jobIds: [`job-${pick()}`], limit: 200 })));
        bySlug.push(
          await timed(() =>
            audits
              .find({ tenantSlug: `tenant-${pick()}` })
              .sort({ at: 1 })
              .limit(200)
              .toArray(),
          ),
        );
      }
      figures.push({ size: jobs * PER_JOB, byJob, bySlug, insertPerS });
      console.log(
        `${handler.padEnd(10)} ${String(jobs * PER_JOB).padStart(7)} entries: by job p50 ${fixed(median(byJob), 1)} ms p95 ${fixed(percentile(byJob, 95), 1)} ms, by slug p50 ${fixed(median(bySlug), 1)} ms p95 ${fixed(percentile(bySlug, 95), 1)} ms; written at ${fixed(insertPerS)} entries/s`,
      );
    }
    return figures;
  } finally {
    await client.close();
    await stopRun(run, true);
  }
}

const sqlite = await measure('sqlite');
const postgresql = await measure('postgresql');
const pairs: string[] = [];
for (const [i, s] of sqlite.entries()) {
  const p = postgresql[i];
  if (!p) continue;
  const k = `${Math.round(s.size / 1000)}k`;
  pairs.push(
    `sqlite_${k}_ms=${fixed(median(s.byJob), 1)}`,
    `postgresql_${k}_ms=${fixed(median(p.byJob), 1)}`,
    `speedup_${k}=${fixed(median(s.byJob) / median(p.byJob), 1)}`,
  );
}
console.log(`bench: ${pairs.join(' ')}`);
