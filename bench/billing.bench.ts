/**
 * The billing scenario alone (it also runs as part 5 of `npm run bench`):
 *   node scripts/with-services.ts node bench/billing.bench.ts
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { Redis } from 'ioredis';
import { billingFiguresLines, billingScenario } from './billing.ts';
import { deleteKeys, fixed } from './lib.ts';

const runId = randomBytes(3).toString('hex');
const mongo = new MongoClient(process.env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/');
const dbs: string[] = [];
const dirs: string[] = [];
let errors = 0;
try {
  const figures = await billingScenario({
    runId,
    mongo,
    log: (line = '') => void process.stdout.write(`${line}\n`),
    track: (db, dir) => {
      dbs.push(db);
      dirs.push(dir);
    },
    onError: (err) => {
      errors += 1;
      if (errors <= 5) console.error('[billing]', err);
    },
  });
  for (const line of billingFiguresLines(figures)) console.log(line);
  console.log(
    `bench: billing_tenants=${figures.tenants} billing_applied_p50_ms=${fixed(figures.applied.p50)} billing_applied_p99_ms=${fixed(figures.applied.p99)} billing_ack_p50_ms=${fixed(figures.ack.p50, 1)} billing_ack_p99_ms=${fixed(figures.ack.p99, 1)}`,
  );
} finally {
  const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  await deleteKeys(redis, `bench${runId}bill:*`);
  await redis.quit();
  for (const db of dbs) await mongo.db(db).dropDatabase();
  await mongo.db(`bench_billing_shared_${runId}`).dropDatabase();
  await mongo.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
