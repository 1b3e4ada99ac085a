/**
 * One chaos run, start to verdict: the world is started, deals are submitted
 * while the monkey kills workers and Redis and the store are restarted once
 * each, the run waits for every job to settle, and then the record and every
 * system are checked. The summary's last line is the machine-readable verdict.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoJobStore } from '../../src/adapters/mongo-store.ts';
import type { JobView } from '../../src/domain/job-view.ts';
import type { Latency } from '../../src/emulators/latency.ts';
import { approveWaiting, killWorkers, say, submitDeals } from './agents.ts';
import { dealsFor, seededRandom } from './deals.ts';
import { emailCopies, takeInventory, type Inventory } from './inventory.ts';
import { lostEvents, recorderCaughtUp, staleViews } from './records.ts';
import { failureReasons, isSettled, waitUntilSettled } from './settle.ts';
import { startWorkerPool, type WorkerPool } from './workers.ts';
import { startWorld, type World } from './world.ts';

export type ChaosOptions = {
  tenants: number;
  kills: number;
  workers: number;
  perSecond: number;
  latency: Latency;
  seed: number;
  /** How long jobs may take to settle once the last kill is done. */
  settleTimeoutMs: number;
  lockMs: number;
};

export type ChaosSummary = { findings: string[]; line: string; ok: boolean };

export async function runChaos(o: ChaosOptions): Promise<ChaosSummary> {
  const started = Date.now();
  say(
    `seed ${o.seed}: ${o.tenants} tenants at ${o.perSecond}/s, ${o.workers} workers, ${o.kills} kills, latency ${o.latency.minMs}-${o.latency.maxMs} ms per wait`,
  );
  const world = await startWorld({ latency: o.latency, onError: (err) => say(`submitting app: ${String(err)}`) });
  try {
    const summary = await chaos(world, o);
    summary.findings.push(`duration: ${Math.round((Date.now() - started) / 1000)} s (seed ${o.seed})`);
    return summary;
  } finally {
    await world.close();
  }
}

type Restarts = { redis: number; store: number };

async function chaos(world: World, o: ChaosOptions): Promise<ChaosSummary> {
  const random = seededRandom(o.seed);
  const { app } = world;
  const stream = app.engine.keys.events();
  const workerLog = join(tmpdir(), `chaos-${world.run}-workers.log`);
  say(`run ${world.run}; worker output goes to ${workerLog}`);
  const pool = await startWorkerPool({
    size: o.workers,
    env: world.workerEnv,
    lockMs: o.lockMs,
    logFile: workerLog,
    redis: app.engine.redis,
    prefix: app.config.queuePrefix,
  });
  // Interrupted (Ctrl-C, a CI timeout): no worker or server may outlive the run.
  const interrupted = () => {
    pool.killAll();
    void world.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  const stopChaos = new AbortController();
  const jobIds: string[] = [];
  const restarts: Restarts = { redis: 0, store: 0 };
  const approving = approveWaiting(app, () => jobIds, stopChaos.signal);
  const gapS = { min: 1.5, max: 5 };
  let settleBy = Number.POSITIVE_INFINITY;
  const monkey = killWorkers({
    pool,
    redis: app.engine.redis,
    stream,
    kills: o.kills,
    gapS,
    aimWithinMs: 2 * o.latency.maxMs,
    random,
    stop: stopChaos.signal,
  })
    .catch((err: unknown) => say(`the monkey stopped early: ${String(err)}`))
    .finally(() => {
      settleBy = Date.now() + o.settleTimeoutMs;
    });

  const deals = dealsFor(world.run, o.tenants, random);
  const { refused } = await submitDeals(app, deals, o.perSecond, jobIds, (n) => restartOnce(world, o.tenants, n, restarts));
  say(`all ${deals.length} deals submitted (${refused.length} refused); waiting for the jobs to settle`);
  const views = await waitUntilSettled(
    app,
    jobIds,
    () => settleBy,
    (n) => say(`${n}/${jobIds.length} jobs settled, ${pool.kills()} kills so far`),
  );
  stopChaos.abort();
  await monkey;
  const approvals = await approving;

  say('waiting for the recorder to read the stream to its end');
  const caughtUp = await recorderCaughtUp(app.engine.redis, stream, 120_000);
  await stopPool(pool);
  const mongo = await world.freshStore();
  const db = mongo.db(app.config.mongoDb);
  const { lost, types } = await lostEvents(app.engine.redis, stream, db);
  const stale = await staleViews({ engine: app.engine, store: new MongoJobStore(db) }, jobIds, 15_000).finally(() => mongo.close());
  say('counting every tenant resource in every system');
  const settledViews = [...views.values()].filter((v): v is JobView => v !== null);
  const inventory = await takeInventory(world.inspector(), settledViews, app.manifests.seeds);
  const summary = verdict({
    o,
    views,
    refused,
    pool,
    restarts,
    lost,
    stale,
    inventory,
    caughtUp,
    approvals,
    emailCopies: emailCopies(world.inspector()),
  });
  // How often the chaos reached into steps: each "resumed" is a step taken over from a killed worker.
  summary.findings.unshift(`events: ${[...types].map(([type, n]) => `${type} ${n}`).join(', ')}`);
  return summary;
}

/** Redis once a third of the deals are in, the store once two thirds are: both while steps are under way. */
async function restartOnce(world: World, tenants: number, submitted: number, restarts: Restarts): Promise<void> {
  if (restarts.redis === 0 && submitted >= Math.ceil(tenants / 3)) {
    say('restarting Redis (SHUTDOWN, then a new redis-server on the same port and append-only file)');
    await world.servers.restartRedis();
    restarts.redis += 1;
  }
  if (restarts.store === 0 && submitted >= Math.ceil((2 * tenants) / 3)) {
    say('restarting FerretDB (SIGTERM, then a new one on the same port and data)');
    await world.servers.restartStore();
    restarts.store += 1;
  }
}

async function stopPool(pool: WorkerPool): Promise<void> {
  say('stopping the workers');
  await pool.stop();
}

type Evidence = {
  o: ChaosOptions;
  views: ReadonlyMap<string, JobView | null>;
  refused: string[];
  pool: WorkerPool;
  restarts: Restarts;
  lost: string[];
  stale: string[];
  inventory: Inventory;
  caughtUp: boolean;
  approvals: number;
  emailCopies: number;
};

const SHOWN = 20;

/** The first few lines, and how many more there are. */
function some(lines: string[]): string[] {
  return lines.length <= SHOWN ? lines : [...lines.slice(0, SHOWN), `… and ${lines.length - SHOWN} more like these`];
}

function verdict(e: Evidence): ChaosSummary {
  const findings: string[] = [];
  const all = [...e.views.entries()];
  const live = all.filter(([, v]) => v?.status === 'live');
  const failed = all.filter(([, v]) => v !== null && v.status === 'failed' && isSettled(v));
  const unexplained = failed.filter(([, v]) => v !== null && failureReasons(v).every((r) => r.endsWith('(no reason given)')));
  const unsettled = all.filter(([, v]) => v === null || !isSettled(v));
  const stuck = unsettled.length + e.refused.length + unexplained.length;
  findings.push(...some(failed.map(([jobId, v]) => `failed: ${v?.tenant.slug} (${jobId}): ${v ? failureReasons(v).join('; ') : ''}`)));
  findings.push(...some(unsettled.map(([jobId, v]) => `stuck: ${jobId} is ${v?.status ?? 'without live state'}: ${v ? stepStates(v) : ''}`)));
  findings.push(...some(e.refused.map((r) => `stuck: the deal was never accepted: ${r}`)));
  findings.push(...some(unexplained.map(([jobId]) => `stuck: ${jobId} failed without saying why`)));
  const extra = e.inventory.counts.filter((c) => c.found > c.max);
  const short = e.inventory.counts.filter((c) => c.found < c.expected);
  findings.push(...some(extra.map((c) => `duplicate: ${c.tenant} has ${c.found} ${c.kind} (at most ${c.max})`)));
  findings.push(...some(short.map((c) => `missing: live tenant ${c.tenant} has ${c.found} ${c.kind} (expected ${c.expected})`)));
  findings.push(...some(e.lost.map((l) => `lost event: ${l}`)));
  findings.push(...some(e.stale.map((s) => `stale view: ${s}`)));
  if (!e.caughtUp) findings.push('the recorder stopped reading the stream for 2 minutes before its end: lost events may be late ones');
  findings.push(
    `approvals: ${e.approvals}; welcome-email copies resent with the same Message-ID (SMTP's documented at-least-once): ${e.emailCopies}`,
  );
  if (e.inventory.missing > 0) findings.push(`missing resources of live tenants: ${e.inventory.missing} (this fails the run too)`);
  const line =
    `chaos: jobs=${e.o.tenants} live=${live.length} failed=${failed.length - unexplained.length} stuck=${stuck} kills=${e.pool.kills()} ` +
    `redis_restarts=${e.restarts.redis} store_restarts=${e.restarts.store} duplicates=${e.inventory.duplicates} lost_events=${e.lost.length} stale_views=${e.stale.length}`;
  const ok = stuck === 0 && e.inventory.duplicates === 0 && e.lost.length === 0 && e.stale.length === 0 && e.inventory.missing === 0;
  return { findings, line, ok };
}

function stepStates(view: JobView): string {
  return view.steps.map((s) => `${s.id}=${s.state}${s.error ? ` (${s.error})` : ''}`).join(', ');
}
