/**
 * `npm run bench:provision`: how long a closed deal takes to become a live
 * tenant on the real pipeline (FerretDB, moto, the Stripe/Okta/SMTP/webhook
 * emulators), and how much of that is the steps' own work.
 *
 * Baseline, measured in the same run: each job's critical path, the longest
 * chain of step durations through its `needs` (what an ideal orchestrator
 * with zero overhead would take). efficiency = critical path / time to live;
 * 1.0 means the engine added nothing between steps. Rounds of TENANTS
 * concurrent starter deals; medians of the rounds are reported, after a
 * solo figure (one deal at a time).
 *
 * FerretDB serialises its metadata changes (creating databases and
 * collections) on either storage handler, so shared-plan tenants created at
 * once queue behind each other in the database and seed steps; the per-step
 * breakdown shows it.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { compose, type App } from '../src/compose.ts';
import { loadConfigWith } from '../src/config.ts';
import type { JobView } from '../src/domain/job-view.ts';
import { startLocalEmulators } from '../src/emulators/emulators.ts';
import { fixed, median, percentile, ROOT } from './lib.ts';
import { REQUESTER } from '../test/support/people.ts';

const TENANTS = Number(process.env['BENCH_TENANTS'] ?? 20);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

/** The longest chain of step durations through `needs`: the least time any orchestrator could take. */
export function criticalPathMs(view: JobView): number {
  const byId = new Map(view.steps.map((s) => [s.id, s]));
  const memo = new Map<string, number>();
  const longest = (id: string): number => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const step = byId.get(id);
    const value = (step?.durationMs ?? 0) + Math.max(0, ...(step?.needs ?? []).map(longest));
    memo.set(id, value);
    return value;
  };
  return Math.max(...view.steps.filter((s) => s.criticality === 'blocking').map((s) => longest(s.id)));
}

async function liveView(app: App, jobId: string): Promise<JobView> {
  for (;;) {
    const view = await app.service.status(jobId);
    if (view.status === 'live' || view.status === 'failed') return view;
    await sleep(10);
  }
}

type Round = { ttl: number[]; path: number[]; failed: number; stepMs: Map<string, number[]> };

async function round(app: App, n: number): Promise<Round> {
  const tag = randomBytes(3).toString('hex');
  const results = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const started = performance.now();
      const { job } = await app.service.provision(
        {
          companyName: `Bench ${tag} ${i}`,
          slug: `b${tag}-${i}`,
          adminEmail: `admin${i}@bench.example`,
          plan: 'starter',
          contractStartDate: new Date().toISOString().slice(0, 10),
          contractValue: 9000,
          crmOpportunityId: `006B${tag}${i}`,
          requestedBy: 'bench',
        },
        REQUESTER,
      );
      const view = await liveView(app, job.jobId);
      return { ttl: performance.now() - started, path: criticalPathMs(view), live: view.status === 'live', steps: view.steps };
    }),
  );
  const stepMs = new Map<string, number[]>();
  for (const step of results.flatMap((r) => r.steps)) {
    if (step.durationMs !== undefined) stepMs.set(step.id, [...(stepMs.get(step.id) ?? []), step.durationMs]);
  }
  return { ttl: results.map((r) => r.ttl), path: results.map((r) => r.path), failed: results.filter((r) => !r.live).length, stepMs };
}

/** Where the time goes: each step's median duration, slowest first. */
function stepBreakdown(stepMs: ReadonlyMap<string, number[]>): string {
  return [...stepMs.entries()]
    .map(([id, values]) => [id, median(values)] as const)
    .sort((a, b) => b[1] - a[1])
    .map(([id, ms]) => `${id} ${fixed(ms)}`)
    .join(', ');
}

async function main(): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const emulators = await startLocalEmulators(loadConfigWith({ MANIFESTS_DIR: `${ROOT}/manifests`, SEED_MANIFESTS_DIR: `${ROOT}/seed-manifests` }));
  const config = loadConfigWith({
    ...emulators.env,
    PROVISIONER_PROFILE: 'local',
    QUEUE_PREFIX: `bp${id}`,
    MONGODB_DB: `bench_${id}`,
    BASE_DOMAIN: `bp${id}.tenants.test`,
    SECRET_PREFIX: `bp${id}/tenants`,
    SHARED_DATABASE: `bench_shared_${id}`,
  });
  const app = await compose(config, { runWorkers: true });
  try {
    await round(app, 2); // warm-up: connections, hosted zone, JIT
    // One deal at a time: what a single AE sees on a quiet day.
    const solo: number[] = [];
    for (let i = 0; i < 3; i += 1) solo.push(...(await round(app, 1)).ttl);
    console.log(`solo: time to live p50 ${fixed(median(solo))} ms`);
    const rounds = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      const result = await round(app, TENANTS);
      const efficiency = median(result.path) / median(result.ttl);
      console.log(
        `round ${r + 1}: ${TENANTS} tenants, time to live p50 ${fixed(median(result.ttl))} ms p99 ${fixed(percentile(result.ttl, 99))} ms, critical path p50 ${fixed(median(result.path))} ms, efficiency ${fixed(efficiency, 2)}, failed ${result.failed}`,
      );
      console.log(`  step p50 ms: ${stepBreakdown(result.stepMs)}`);
      rounds.push({ ...result, efficiency });
    }
    const ttlP50 = median(rounds.map((r) => median(r.ttl)));
    const ttlP99 = median(rounds.map((r) => percentile(r.ttl, 99)));
    const pathP50 = median(rounds.map((r) => median(r.path)));
    const efficiency = median(rounds.map((r) => r.efficiency));
    const failed = rounds.reduce((n, r) => n + r.failed, 0);
    console.log(
      `bench: tenants=${TENANTS} rounds=${ROUNDS} solo_time_to_live_p50_ms=${fixed(median(solo))} time_to_live_p50_ms=${fixed(ttlP50)} time_to_live_p99_ms=${fixed(ttlP99)} critical_path_p50_ms=${fixed(pathP50)} overhead_p50_ms=${fixed(ttlP50 - pathP50)} efficiency=${fixed(efficiency, 2)} failed=${failed} peak_rss_mb=${fixed(process.resourceUsage().maxRSS / 1024, 1)}`,
    );
  } finally {
    await app.close();
    await emulators.close();
  }
}

await main();
