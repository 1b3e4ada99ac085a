/**
 * `node bench/kpi.bench.ts` (with REDIS_URL and MONGODB_URI, e.g. through
 * scripts/with-services.ts): the control room's part of `npm run bench` on
 * its own — the jobs list and the KPI page with a long history (see kpis.ts).
 * BENCH_KPI_JOBS (default 10000) and BENCH_KPI_EVENTS (default 1000000).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { deleteKeys, fixed } from './lib.ts';
import { kpiFiguresLines, kpiScenario, kpiSizes } from './kpis.ts';

const mongo = new MongoClient(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/');
await mongo.connect();
const runId = randomBytes(3).toString('hex');
const dbs: string[] = [];
const dirs: string[] = [];
const log = (line = '') => void process.stdout.write(`${line}\n`);
let exitCode = 0;
try {
  const figures = await kpiScenario(
    {
      runId,
      mongo,
      log,
      track: (db, dir) => {
        dbs.push(db);
        dirs.push(dir);
      },
      onError: (err) => console.error('[app]', err),
    },
    kpiSizes(),
  );
  for (const line of kpiFiguresLines(figures)) log(line);
  log(
    `bench: kpi_jobs=${figures.jobs} kpi_audit_events=${figures.events} admin_p50_ms=${fixed(figures.admin.p50, 1)} admin_p99_ms=${fixed(figures.admin.p99, 1)}` +
      ` kpi_p50_ms=${fixed(figures.kpis.p50, 1)} kpi_p99_ms=${fixed(figures.kpis.p99, 1)} kpi_unchanged_p99_ms=${fixed(figures.kpisUnchanged.p99, 1)} asset_p99_ms=${fixed(figures.asset.p99, 1)}`,
  );
} catch (err) {
  console.error('bench failed:', err);
  exitCode = 1;
} finally {
  for (const db of dbs) await mongo.db(db).dropDatabase();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await mongo.close();
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  await deleteKeys(redis, `bench${runId}*`);
  await redis.quit();
}
process.exit(exitCode);
