/**
 * Helpers for bench/engine.bench.ts: the benchmark graph, app start-up on a
 * private prefix and database, cheap completion polling, percentiles and
 * process memory. Nothing here measures by itself.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { compose, type App } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import type { JobEvent } from '../src/domain/events.ts';
import { parseIntake } from '../src/domain/intake.ts';
import { buildJobDefinition, type JobDefinition } from '../src/domain/job-definition.ts';
import { stepTypes } from '../src/steps/registry.ts';
import { stepField } from '../src/engine/job-hash.ts';

export const ROOT = resolve(import.meta.dirname, '..');

// ------------------------------------------------------------------ the graph

/**
 * Ten steps, four levels, widest level 4, one sink that (transitively) needs
 * every other step, so "sink succeeded" means "job live".
 *
 *   L0  database                       dns
 *   L1  secrets  seed_data  feature_flags   dns_verify
 *   L2  sso (secrets)  billing (feature_flags, seed_data)  edge (dns_verify, secrets)
 *   L3  activate (sso, billing, edge)
 */
export const GRAPH: readonly { id: string; needs: readonly string[] }[] = [
  { id: 'database', needs: [] },
  { id: 'dns', needs: [] },
  { id: 'secrets', needs: ['database'] },
  { id: 'seed_data', needs: ['database'] },
  { id: 'feature_flags', needs: ['database'] },
  { id: 'dns_verify', needs: ['dns'] },
  { id: 'sso', needs: ['secrets'] },
  { id: 'billing', needs: ['feature_flags', 'seed_data'] },
  { id: 'edge', needs: ['dns_verify', 'secrets'] },
  { id: 'activate', needs: ['sso', 'billing', 'edge'] },
];
export const SINK = 'activate';
export const STEPS_PER_JOB = GRAPH.length;
export const WIDEST_LEVEL = 4;

/** Per-step latencies for the scheduling scenario: fixed, spread over 20–200 ms. */
export const SCHED_LATENCY_MS: Readonly<Record<string, number>> = {
  database: 120,
  dns: 60,
  secrets: 40,
  seed_data: 180,
  feature_flags: 20,
  dns_verify: 90,
  sso: 150,
  billing: 200,
  edge: 70,
  activate: 30,
};

export function pipelineYaml(latencyMs: (stepId: string) => number): string {
  const lines = ['version: 1', 'steps:'];
  for (const step of GRAPH) {
    const needs = step.needs.length > 0 ? `, needs: [${step.needs.join(', ')}]` : '';
    lines.push(`  - { id: ${step.id}, type: sandbox${needs}, config: { latencyMs: ${latencyMs(step.id)}, resource: "bench ${step.id}" } }`);
  }
  return `${lines.join('\n')}\n`;
}

/** A manifests dir like the test harness builds: the repo's plans plus our pipeline. */
export function manifestsDirWith(pipeline: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-manifests-'));
  copyFileSync(join(ROOT, 'manifests/plans.yaml'), join(dir, 'plans.yaml'));
  writeFileSync(join(dir, 'pipeline.yaml'), pipeline);
  return dir;
}

// ------------------------------------------------------------------ the app

export type BenchApp = App & { prefix: string; runWorkers: boolean };

export async function startApp(opts: {
  prefix: string;
  mongoDb: string;
  manifestsDir: string;
  concurrency: number;
  /** false: an API-side process that only creates jobs (like the CLI's `provision`). */
  runWorkers: boolean;
  onError: (err: unknown) => void;
}): Promise<BenchApp> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QUEUE_PREFIX: opts.prefix,
    MONGODB_DB: opts.mongoDb,
    WORKER_CONCURRENCY: String(opts.concurrency),
    MANIFESTS_DIR: opts.manifestsDir,
    SEED_MANIFESTS_DIR: join(ROOT, 'seed-manifests'),
  };
  const app = await compose(loadConfig(env), { runWorkers: opts.runWorkers, onError: opts.onError });
  return { ...app, prefix: opts.prefix, runWorkers: opts.runWorkers };
}

let dealCounter = 0;

/** A starter-plan deal (no approval gate) with a unique slug and opportunity id. */
export function starterDeal(runId: string): Record<string, unknown> {
  dealCounter += 1;
  const tag = `${runId}-${dealCounter}-${randomBytes(2).toString('hex')}`;
  return {
    companyName: `Bench Co ${dealCounter}`,
    slug: `b${tag}`.slice(0, 30).replace(/-+$/, ''),
    adminEmail: 'it-admin@bench.example',
    plan: 'starter',
    contractStartDate: new Date().toISOString().slice(0, 10),
    contractValue: 12_000,
    dataResidency: 'us',
    featureOverrides: {},
    crmOpportunityId: `006BENCH${tag.replaceAll('-', '')}`,
    requestedBy: 'bench',
  };
}

/**
 * What app.service.provision hands the engine for a deal, built the same way
 * (same intake parser, same definition builder) but without its MongoDB
 * writes, so jobs can reach the engine at a chosen moment.
 */
export function engineJobFor(app: App, deal: Record<string, unknown>): { definition: JobDefinition; event: JobEvent } {
  const now = new Date();
  const parsed = parseIntake(deal, app.manifests.plans, now);
  if (!parsed.ok) throw new Error(`bench deal rejected: ${JSON.stringify(parsed.errors)}`);
  const plan = app.manifests.plans.plans[parsed.intake.plan];
  if (!plan) throw new Error(`no plan ${parsed.intake.plan}`);
  const built = buildJobDefinition({
    intake: parsed.intake,
    plan,
    planId: parsed.intake.plan,
    pipeline: app.manifests.pipeline.steps,
    settings: app.config.tenant,
    catalogue: stepTypes,
    now,
    residencyRegions: app.manifests.plans.residencyRegions,
  });
  if (!built.ok) throw new Error(`bench job not built: ${JSON.stringify(built.problems)}`);
  const { definition } = built;
  const event: JobEvent = {
    type: 'job.created',
    jobId: definition.jobId,
    at: Date.parse(definition.createdAt),
    actor: definition.intake.requestedBy,
    summary: `${definition.intake.requestedBy} requested a ${definition.tenant.planId} tenant for ${definition.tenant.companyName}`,
  };
  return { definition, event };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      const item = items[i];
      if (item !== undefined) out[i] = await fn(item, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

// ------------------------------------------------------------------ polling

/** For each key whose hash field ARGV[1] equals ARGV[2], its 1-based index: one round trip per poll. */
const WHICH_DONE = `
local out = {}
for i, k in ipairs(KEYS) do
  if redis.call('HGET', k, ARGV[1]) == ARGV[2] then table.insert(out, i) end
end
return out
`;

/**
 * Waits until the sink step of every job has succeeded and returns each
 * job's sink finish time (ft:<sink>, ms). Polling only decides when to stop;
 * the times come from the hashes, so the poll interval does not blur them.
 */
export async function waitForSinks(
  redis: Redis,
  hashKeyOf: (jobId: string) => string,
  jobIds: readonly string[],
  opts: { timeoutMs: number; pollMs: number },
): Promise<Map<string, number>> {
  const deadline = Date.now() + opts.timeoutMs;
  let pending = [...jobIds];
  while (pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.length} of ${jobIds.length} jobs not live after ${opts.timeoutMs} ms (e.g. ${pending[0]})`);
    const reply = await redis.eval(WHICH_DONE, pending.length, ...pending.map(hashKeyOf), stepField('state', SINK), 'succeeded');
    const done = new Set(Array.isArray(reply) ? reply.filter((v): v is number => typeof v === 'number') : []);
    pending = pending.filter((_, i) => !done.has(i + 1));
    if (pending.length > 0) await sleep(opts.pollMs);
  }
  const pipe = redis.pipeline();
  for (const id of jobIds) pipe.hget(hashKeyOf(id), stepField('finishedAt', SINK));
  const results = (await pipe.exec()) ?? [];
  const finished = new Map<string, number>();
  for (const [i, id] of jobIds.entries()) finished.set(id, Number(results[i]?.[1]));
  return finished;
}

export type GroupProgress = { added: number; read: number; pending: number; caughtUp: boolean };

/** How far a consumer group has got through a stream; caught up once handed every entry and acknowledged them all. */
export async function groupProgress(redis: Redis, stream: string, group: string): Promise<GroupProgress> {
  const [streamInfo, groups] = await Promise.all([redis.xinfo('STREAM', stream), redis.xinfo('GROUPS', stream)]);
  const lastId = field(streamInfo, 'last-generated-id');
  const added = Number(field(streamInfo, 'entries-added'));
  for (const g of Array.isArray(groups) ? groups : []) {
    if (field(g, 'name') !== group) continue;
    const pending = Number(field(g, 'pending'));
    const read = Number(field(g, 'entries-read'));
    return { added, read, pending, caughtUp: field(g, 'last-delivered-id') === lastId && pending === 0 };
  }
  return { added, read: 0, pending: 0, caughtUp: false };
}

/** Reads a field from a flat [name, value, …] reply (RESP2 shape) or a map (RESP3 shape). */
function field(reply: unknown, name: string): unknown {
  if (Array.isArray(reply)) {
    const i = reply.indexOf(name);
    return i >= 0 && i % 2 === 0 ? reply[i + 1] : undefined;
  }
  if (reply instanceof Map) return reply.get(name);
  if (reply !== null && typeof reply === 'object') return Reflect.get(reply, name);
  return undefined;
}

export async function waitUntil(what: string, check: () => Promise<boolean>, opts: { timeoutMs: number; pollMs: number }): Promise<number> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${opts.timeoutMs} ms`);
    await sleep(opts.pollMs);
  }
}

/** Deletes every key under `pattern` with SCAN + UNLINK (never KEYS). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

// ------------------------------------------------------------------ CPU cost

/**
 * CPU time spent by this process and by redis-server over a window. On a
 * shared machine, CPU per step moves far less with other tenants' load than
 * wall-clock throughput does.
 */
export async function cpuMeter(redis: Redis): Promise<{ stop(): Promise<{ nodeMs: number; redisMs: number }> }> {
  const redisCpuMs = async (): Promise<number> => {
    const info = await redis.info('cpu');
    const sum = ['used_cpu_sys', 'used_cpu_user'].reduce(
      (acc, k) => acc + Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN),
      0,
    );
    return sum * 1000;
  };
  const node0 = process.cpuUsage();
  const redis0 = await redisCpuMs();
  return {
    async stop() {
      const node = process.cpuUsage(node0);
      return { nodeMs: (node.user + node.system) / 1000, redisMs: (await redisCpuMs()) - redis0 };
    },
  };
}

// ------------------------------------------------------------------ statistics

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export function fixed(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'nan';
}

export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');

// ------------------------------------------------------------------ memory

/** Peak resident set (VmHWM) of a process in MB, from /proc; undefined if unreadable. */
export function vmHwmMb(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) the MongoDB-wire server and every PostgreSQL process under it have used so far (from /proc): on a
 * machine shared with the engine, what the store's writes take from it. NaN when the server is not found.
 */
export function storeCpuMs(port: number): number {
  const server = mongoServerPid(port);
  if (server === undefined) return Number.NaN;
  let postgres: number[] = [];
  try {
    const out = execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    postgres = out
      .split('\n')
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    // none: FerretDB on SQLite, or a real mongod
  }
  const ticksPerMs = 100 / 1000;
  return [server, ...postgres].reduce((sum, pid) => sum + cpuTicks(pid) / ticksPerMs, 0);
}

/** utime + stime of a process, in clock ticks (100 a second on Linux); 0 for one gone. */
function cpuTicks(pid: number): number {
  try {
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** First pid whose full command line matches the (extended) regex, via `pgrep -f`. */
export function pgrepFirst(pattern: string): number | undefined {
  try {
    const out = execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(out.split('\n').find((l) => l.trim() !== ''));
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function portOf(url: string, fallback: number): number {
  try {
    const port = new URL(url).port;
    return port ? Number(port) : fallback;
  } catch {
    return fallback;
  }
}

/** Redis names its own pid in INFO server; use pgrep only if that is unavailable. */
export async function redisServerPid(redis: Redis, port: number): Promise<number | undefined> {
  try {
    const info = await redis.info('server');
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && vmHwmMb(pid) !== undefined) return pid;
  } catch {
    // fall through to pgrep
  }
  return pgrepFirst(`redis-server.*:${port}( |$)`);
}

export function mongoServerPid(port: number): number | undefined {
  return pgrepFirst(`(ferretdb|mongod).*[:= ]${port}( |$)`);
}

/**
 * BENCH_PROFILE=<folder>: a V8 CPU profile of this process over one measured window (an engine round, from
 * release to the last sink), written as <folder>/<name>.cpuprofile for Chrome DevTools or speedscope.
 * Without it, nothing is started.
 */
export async function profileWindow(name: string, redis: Redis): Promise<{ stop(): Promise<void> }> {
  const folder = process.env['BENCH_PROFILE'];
  if (!folder) return { stop: async () => {} };
  const callsBefore = commandCalls(await redis.info('commandstats'));
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, `${name}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
      // Redis commands over the window (every client's), most called first, with their server time (a script's
      // time includes the commands it calls, which are also counted on their own lines).
      const after = commandCalls(await redis.info('commandstats'));
      const lines = [...after]
        .map(([command, n]) => {
          const before = callsBefore.get(command);
          return { command, calls: n.calls - (before?.calls ?? 0), usec: n.usec - (before?.usec ?? 0) };
        })
        .filter((c) => c.calls > 0)
        .sort((a, b) => b.calls - a.calls)
        .map((c) => `${c.calls}\t${c.usec} µs\t${c.command}`);
      writeFileSync(join(folder, `${name}.redis-calls.txt`), ['calls\tserver time\tcommand', ...lines].join('\n'));
    },
  };
}

/** cmdstat_<command>:calls=N,usec=M,… lines of INFO commandstats, as command → calls and server time. */
function commandCalls(info: string): Map<string, { calls: number; usec: number }> {
  const calls = new Map<string, { calls: number; usec: number }>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    calls.set(match[1] ?? '', { calls: Number(match[2]), usec: Number(match[3]) });
  return calls;
}
