/**
 * The control room as history grows: GET /admin (the jobs list) and GET
 * /admin/kpis with BENCH_KPI_JOBS jobs (default 10,000) and BENCH_KPI_EVENTS
 * audit entries (default 1,000,000) in the store, over HTTP with a signed-in
 * session, one request at a time; p50 and p99. Baseline in the same run: a
 * static asset (GET /assets/admin.css) from the same server.
 *
 * Seeding goes straight into the store, in large batches: jobs as
 * MongoJobStore stores them (jobDocOf), the audit through appendAudit, and
 * each job's KPI facts worked out from its seeded trail by the same function
 * the keeper uses (jobFacts) and inserted directly — the keeper itself would
 * read each job's trail back from the store, which on FerretDB scans the
 * whole audit per job. Then `provisioner serve`'s web app starts on that
 * database: the jobs catalogue and the KPI facts load, the keeper checks
 * every job's seq (nothing is behind), and the requests are timed.
 */
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { kpiFactsDocOf } from '../src/adapters/mongo-kpi-store.ts';
import { jobDocOf, MongoJobStore } from '../src/adapters/mongo-store.ts';
import { compose, type App } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { jobFacts } from '../src/domain/kpi-facts.ts';
import { kpiReport } from '../src/domain/kpis.ts';
import { engineJobFor, fixed, manifestsDirWith, percentile, pipelineYaml, ROOT, starterDeal } from './lib.ts';
import { seededJob } from './kpi-history.ts';

export type KpiFigures = {
  store: string;
  jobs: number;
  events: number;
  seedS: number;
  startS: number;
  catchUpS: number;
  aggregateMs: number;
  admin: { p50: number; p99: number };
  /** Every request after a change of the facts: each aggregates them from scratch. */
  kpis: { p50: number; p99: number };
  /** Nothing changed in between: the report worked out for the first is reused. */
  kpisUnchanged: { p50: number; p99: number };
  asset: { p50: number; p99: number };
  /** `provisioner audit <slug>` and `/provision audit <slug>`: what both doors ask the service, for a random seeded tenant. */
  audit: { p50: number; p99: number; lookups: number };
};

const JOBS_PER_BATCH = 200;
const REQUESTS = 300;
const WARMUP = 30;
/** Few: on FerretDB each lookup reads the whole audit table (about 1 s at 1,000,000 entries), and the run has a watchdog. */
const AUDIT_LOOKUPS = 50;
const AUDIT_WARMUP = 5;

type Deps = {
  runId: string;
  mongo: MongoClient;
  log(line?: string): void;
  track(db: string, manifestsDir: string): void;
  onError(err: unknown): void;
};

/** Which MongoDB-wire server answers: benchmark figures are only as good as the store under them. */
export async function storeName(mongo: MongoClient): Promise<string> {
  const info = await mongo.db('admin').command({ buildInfo: 1 });
  if ('ferretdbFeatures' in info) return `FerretDB on ${process.env['FERRETDB_HANDLER'] ?? 'postgresql'}`;
  return `MongoDB ${String(info['version'])}`;
}

/** Seeds jobs, their trails and facts, and first workflow uses, batch by batch (one batch in memory at a time). */
async function seed(
  deps: Deps,
  dbName: string,
  template: ReturnType<typeof engineJobFor>['definition'],
  jobs: number,
  events: number,
): Promise<number> {
  const db = deps.mongo.db(dbName);
  const store = new MongoJobStore(db);
  await store.ensureIndexes();
  const now = Date.now();
  const perJob = Math.max(25, Math.floor(events / jobs));
  let written = 0;
  for (let first = 0; first < jobs; first += JOBS_PER_BATCH) {
    const batch = Array.from({ length: Math.min(JOBS_PER_BATCH, jobs - first) }, (_, k) => seededJob(template, first + k, now, perJob));
    const entries = batch.flatMap((j) => j.entries);
    await store.appendAudit(entries);
    await db.collection<{ _id: string }>('jobs').insertMany(batch.map((j) => jobDocOf(j.record)));
    const facts = batch.map((j) => kpiFactsDocOf(jobFacts(j.record.definition, j.record.view.seq, j.entries)));
    await db.collection<{ _id: string }>('kpi_facts').insertMany(facts);
    const firsts = batch.flatMap((j) => j.firstUses);
    if (firsts.length > 0) await db.collection<{ _id: string }>('first_activations').insertMany(firsts);
    written += entries.length;
    if ((first / JOBS_PER_BATCH) % 10 === 9) deps.log(`  seeded ${first + batch.length} jobs, ${written} audit entries`);
  }
  return written;
}

async function timeRequests(url: string, headers: Record<string, string>, count: number, before?: (i: number) => void): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    before?.(i);
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

/** A signed-in session, as an operator following a one-time sign-in link gets one. */
async function signedInCookie(app: App, base: string): Promise<string> {
  if (!app.web) throw new Error('the web app was not composed');
  const link = await app.web.signInLink('bench');
  const response = await fetch(link.replace(/^https?:\/\/[^/]+/, base), { redirect: 'manual' });
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('prov_session='));
  if (!cookie) throw new Error(`signing in gave no session (${response.status})`);
  return cookie.split(';')[0] ?? '';
}

const p = (times: number[]) => ({ p50: percentile(times, 50), p99: percentile(times, 99) });

export async function kpiScenario(deps: Deps, opts: { jobs: number; events: number }): Promise<KpiFigures> {
  const dbName = `bench_kpi_${deps.runId}`;
  const manifestsDir = manifestsDirWith(pipelineYaml(() => 0));
  deps.track(dbName, manifestsDir);
  const env = {
    ...process.env,
    QUEUE_PREFIX: `bench${deps.runId}kpi`,
    MONGODB_DB: dbName,
    MANIFESTS_DIR: manifestsDir,
    SEED_MANIFESTS_DIR: join(ROOT, 'seed-manifests'),
    PROVISIONER_OPERATORS: 'bench:admin',
    LOG_LEVEL: 'error',
  };
  const config = loadConfig(env);
  const store = await storeName(deps.mongo);
  // One definition built like provision builds them; every seeded job is a variation of it.
  const templateApp = await compose(config, { runWorkers: false, onError: deps.onError });
  const { definition: template } = engineJobFor(templateApp, starterDeal(deps.runId));
  await templateApp.close();

  deps.log(`seeding ${opts.jobs} jobs and ${opts.events} audit entries into ${store} (database ${dbName})…`);
  const seedStarted = Date.now();
  const events = await seed(deps, dbName, template, opts.jobs, opts.events);
  const seedS = (Date.now() - seedStarted) / 1000;
  deps.log(`  seeded in ${fixed(seedS, 1)} s (${fixed(events / seedS)} audit entries/s)`);

  const startStarted = Date.now();
  const app = await compose(config, { runWorkers: false, serveWeb: true, onError: deps.onError });
  try {
    if (!app.web) throw new Error('the web app was not composed');
    const base = await app.web.listen(0);
    while (app.kpiFacts.lastCatchUp === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    const startS = (Date.now() - startStarted) / 1000;
    const catchUp = app.kpiFacts.lastCatchUp;
    deps.log(
      `  web app up in ${fixed(startS, 1)} s: catalogue and facts loaded, every job's seq checked in ${fixed(catchUp.ms / 1000, 1)} s (${catchUp.behind} behind)`,
    );
    const headers = { cookie: await signedInCookie(app, base), accept: 'text/html' };
    const aggregate: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      kpiReport(app.kpiFacts.jobFacts(), app.kpiFacts.firstActivations(), Date.now());
      aggregate.push(performance.now() - started);
    }
    for (const path of ['/admin', '/admin/kpis', '/assets/admin.css']) await timeRequests(`${base}${path}`, headers, WARMUP);
    const admin = p(await timeRequests(`${base}/admin`, headers, REQUESTS));
    const kpisUnchanged = p(await timeRequests(`${base}/admin/kpis`, headers, REQUESTS));
    // As if the product reported a new workflow used before every request: the figures are worked out again each time.
    const changed = (i: number) => app.kpiFacts.noteFirstUse({ tenantSlug: 'kpi-0', workflow: `bench-${i}`, firstAt: Date.now() });
    const kpis = p(await timeRequests(`${base}/admin/kpis`, headers, REQUESTS, changed));
    const asset = p(await timeRequests(`${base}/assets/admin.css`, headers, REQUESTS));
    const audit = await timeAuditLookups(app, opts.jobs);
    return {
      store,
      jobs: opts.jobs,
      events,
      seedS,
      startS,
      catchUpS: catchUp.ms / 1000,
      aggregateMs: percentile(aggregate, 50),
      admin,
      kpis,
      kpisUnchanged,
      asset,
      audit,
    };
  } finally {
    await app.close();
  }
}

/**
 * The audit trail of a random seeded tenant (kpi-<i>), one lookup at a time, as the CLI's `audit` and Slack's
 * `/provision audit` ask for it (service.audit; they differ only in how they print the lines).
 */
async function timeAuditLookups(app: App, jobs: number): Promise<{ p50: number; p99: number; lookups: number }> {
  const lookup = async (i: number): Promise<number> => {
    const slug = `kpi-${(i * 7919) % jobs}`;
    const started = performance.now();
    const { entries } = await app.service.audit(slug);
    if (entries.length === 0) throw new Error(`the audit of ${slug} came back empty`);
    return performance.now() - started;
  };
  for (let i = 0; i < AUDIT_WARMUP; i++) await lookup(jobs - 1 - i);
  const times: number[] = [];
  for (let i = 0; i < AUDIT_LOOKUPS; i++) times.push(await lookup(i));
  return { ...p(times), lookups: times.length };
}

export const TARGET_P99_MS = 300;
export const TARGET_AUDIT_P99_MS = 100;

/** BENCH_KPI_JOBS and BENCH_KPI_EVENTS, or 10,000 jobs and 1,000,000 audit entries. */
export function kpiSizes(): { jobs: number; events: number } {
  const size = (text: string | undefined, fallback: number) => (Number.isInteger(Number(text)) && Number(text) > 0 ? Number(text) : fallback);
  return { jobs: size(process.env['BENCH_KPI_JOBS'], 10_000), events: size(process.env['BENCH_KPI_EVENTS'], 1_000_000) };
}

export function kpiFiguresLines(f: KpiFigures): string[] {
  const verdict = (ms: number) => (ms <= TARGET_P99_MS ? 'PASS' : 'MISS');
  return [
    `control room (${f.store}; ${f.jobs} jobs, ${f.events} audit entries seeded in ${fixed(f.seedS, 1)} s; web app up in ${fixed(f.startS, 1)} s, every job's seq checked in ${fixed(f.catchUpS, 1)} s):`,
    `  GET /admin (jobs list, page 1):  p50 ${fixed(f.admin.p50, 1)} ms, p99 ${fixed(f.admin.p99, 1)} ms   target p99 ≤ ${TARGET_P99_MS} ms   ${verdict(f.admin.p99)}`,
    `  GET /admin/kpis, facts changed before each request:  p50 ${fixed(f.kpis.p50, 1)} ms, p99 ${fixed(f.kpis.p99, 1)} ms   target p99 ≤ ${TARGET_P99_MS} ms   ${verdict(f.kpis.p99)}`,
    `  GET /admin/kpis, nothing changed in between:        p50 ${fixed(f.kpisUnchanged.p50, 1)} ms, p99 ${fixed(f.kpisUnchanged.p99, 1)} ms`,
    `  baseline GET /assets/admin.css:  p50 ${fixed(f.asset.p50, 1)} ms, p99 ${fixed(f.asset.p99, 1)} ms (same server, same session)`,
    `  aggregating every job's facts from scratch (what a KPI request does when they changed): ${fixed(f.aggregateMs, 1)} ms p50`,
    `  ${REQUESTS} requests each, one at a time, after ${WARMUP} of each to warm up`,
    `  audit trail of one tenant (service.audit, as the CLI's \`audit\` and Slack's /provision audit ask it): p50 ${fixed(f.audit.p50, 1)} ms, p99 ${fixed(f.audit.p99, 1)} ms` +
      ` over ${f.audit.lookups} random tenants   target p99 ≤ ${TARGET_AUDIT_P99_MS} ms   ${f.audit.p99 <= TARGET_AUDIT_P99_MS ? 'PASS' : 'MISS'}`,
  ];
}
