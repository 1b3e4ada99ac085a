/**
 * Writes a job's stored view and tenant status, one writer per job at a
 * time. Every recorder process handles batches of the same jobs, and the
 * store cannot be trusted to arbitrate between them: on FerretDB the
 * conditional "only move forward" update is a read-modify-write, so two
 * concurrent writers can put an older view on top of a newer one for good.
 * Under a per-job Redis lock the same condition is reliable, because nobody
 * else writes the document meanwhile. So:
 *
 * - A recorder waits for the job's lock, saves its batch's view unless a
 *   newer one is stored, then the tenant status (only if the view was saved,
 *   so an older status never follows a newer one). The recorder of a job's
 *   last event reads a state at least that new, so the stored view catches
 *   up with every event; and it is never ahead of the audit this recorder
 *   stored just before. A batch's jobs go together: their locks taken in one
 *   call, their views and statuses written in one round trip each, their
 *   locks let go in one call; a job whose lock someone else holds waits
 *   while the others are written.
 * - A writer whose lock expired mid-write (a very slow store) may have put an
 *   old view on top of a newer one: it takes the lock again and writes the
 *   latest live state.
 * - Every state change marks the job stale in Redis (lua.ts), and a write at
 *   the live sequence number unmarks it. The reconciler rewrites jobs that
 *   stay marked from their latest live state: a change with no event (a step
 *   held back on a halted job), a store that was down, a lock never released.
 *   It waits while the recorder has not stored the job's latest event yet (a
 *   recorder lagging under load), so it never puts a view ahead of the audit;
 *   after `recorderPatienceMs` it writes anyway (a recorder that is stuck).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { buildJobView, type JobView } from '../domain/job-view.ts';
import type { JobStore } from '../ports/store.ts';
import type { DefinitionCache } from './definitions.ts';
import { JOB_FIELD } from './job-hash.ts';
import { liveJob } from './job-batches.ts';
import type { JobStateStore } from './job-state.ts';
import type { Keys } from './keys.ts';
import { Script } from './script.ts';

/**
 * KEYS = the jobs' view locks; ARGV: the token, how long (ms). Takes each lock that is free; returns the
 * (1-based) positions of those it took.
 */
const TAKE = new Script(`
local taken = {}
for i, lock in ipairs(KEYS) do
  if redis.call('SET', lock, ARGV[1], 'PX', ARGV[2], 'NX') then taken[#taken + 1] = i end
end
return taken
`);

/**
 * KEYS[1] = the stale views set, then per job its view lock and its state hash.
 * ARGV: the lock token, then per job the sequence number just written and its id.
 * Per job 'released' (and the job unmarked if that was its live state), or 'lost':
 * the lock expired and another writer may have taken it meanwhile.
 */
const RELEASE_AFTER_WRITE = new Script(`
local outcomes = {}
for i = 1, (#KEYS - 1) / 2 do
  local lock, state = KEYS[2 * i], KEYS[2 * i + 1]
  local seq, jobId = ARGV[2 * i], ARGV[2 * i + 1]
  if redis.call('GET', lock) ~= ARGV[1] then
    outcomes[i] = 'lost'
  else
    local live = redis.call('HGET', state, '${JOB_FIELD.seq}')
    if not live or tonumber(live) <= tonumber(seq) then redis.call('ZREM', KEYS[1], jobId) end
    redis.call('DEL', lock)
    outcomes[i] = 'released'
  end
end
return outcomes
`);

/** KEYS = locks, ARGV[1] = their token: deletes each one that is still ours. */
const RELEASE = new Script(`
for _, lock in ipairs(KEYS) do
  if redis.call('GET', lock) == ARGV[1] then redis.call('DEL', lock) end
end
return 0
`);

export type ViewSyncOptions = {
  redis: Redis;
  keys: Keys;
  state: JobStateStore;
  definitions: DefinitionCache;
  store: JobStore;
  /** How long a writer may hold a job's lock; far longer than one write to the store takes. */
  lockMs?: number;
  /** The recorder's consumer group on the event stream: the reconciler waits for it (see above). */
  recorderGroup?: string;
  recorderPatienceMs?: number;
};

export class ViewSync {
  private readonly opts: ViewSyncOptions;
  private readonly lockMs: number;

  constructor(opts: ViewSyncOptions) {
    this.opts = opts;
    this.lockMs = opts.lockMs ?? 10_000;
  }

  /** Saves each job's view (and its tenant status) unless a newer one is stored; one view per job. */
  async saveAll(views: readonly JobView[]): Promise<void> {
    const byJob = new Map(views.map((v) => [v.jobId, v]));
    await this.underLocks([...byJob.keys()], async (held) => held.flatMap((jobId) => byJob.get(jobId) ?? []));
  }

  /**
   * Rewrites, from their live state, jobs whose stored view has been behind for at least `olderThanMs`
   * and whose events the recorder has stored; returns how many it rewrote.
   */
  async reconcile(olderThanMs: number, limit = 100): Promise<number> {
    const { redis, keys } = this.opts;
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const marked = await redis.zrangebyscore(keys.staleViews(), '-inf', now - olderThanMs, 'WITHSCORES', 'LIMIT', 0, limit);
    const recorded = await this.recordedSoFar();
    const patience = this.opts.recorderPatienceMs ?? 60_000;
    const behind = Array.from({ length: marked.length / 2 }, (_, i) => ({ jobId: marked[2 * i] ?? '', since: Number(marked[2 * i + 1]) }));
    // One round trip: the connection pipelines these.
    const lastEvents = await Promise.all(behind.map(({ jobId }) => redis.hget(keys.jobState(jobId), JOB_FIELD.eventId)));
    const due = behind.filter(({ since }, i) => {
      const lastEvent = lastEvents[i] ?? null;
      return lastEvent === null || recorded(lastEvent) || since <= now - patience;
    });
    // A writer holding a lock is at it already; a lock never released expires, and the next round gets the job.
    const token = randomUUID();
    const held = await this.take(
      due.map((d) => d.jobId),
      token,
    );
    if (held.length > 0) await this.writeWhileHeld(held, token, () => this.latest(held));
    return held.length;
  }

  /**
   * Whether the recorder has stored a stream entry: handed over (at or before the group's last delivered
   * id) and acknowledged (older than its oldest pending one). With no recorder group nothing waits.
   */
  private async recordedSoFar(): Promise<(entryId: string) => boolean> {
    const { redis, keys, recorderGroup } = this.opts;
    if (recorderGroup === undefined) return () => true;
    const groups = await redis.xinfo('GROUPS', keys.events()).catch(() => []);
    const group = (Array.isArray(groups) ? groups : []).map(fieldsOf).find((g) => g.get('name') === recorderGroup);
    const delivered = group?.get('last-delivered-id');
    if (typeof delivered !== 'string') return () => true;
    const [pending, oldest] = await redis.xpending(keys.events(), recorderGroup);
    return (entryId) =>
      compareEntryIds(entryId, delivered) <= 0 && (Number(pending) === 0 || typeof oldest !== 'string' || compareEntryIds(entryId, oldest) < 0);
  }

  /** Takes the locks of those jobs nobody else is writing; returns their ids. */
  private async take(jobIds: readonly string[], token: string): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const taken = await TAKE.run(
      this.opts.redis,
      jobIds.map((jobId) => this.opts.keys.viewLock(jobId)),
      [token, this.lockMs],
    );
    return Array.isArray(taken) ? taken.flatMap((position) => jobIds[Number(position) - 1] ?? []) : [];
  }

  /**
   * Writes the jobs' views under their locks: those free now at once, the others as their writers let go.
   * A writer that died holding one lets go when the lock expires.
   */
  private async underLocks(jobIds: readonly string[], viewsOf: (held: readonly string[]) => Promise<JobView[]>): Promise<void> {
    let deadline = Date.now() + 2 * this.lockMs;
    let waiting = jobIds;
    while (waiting.length > 0) {
      const token = randomUUID();
      const held = await this.take(waiting, token);
      if (held.length > 0) {
        await this.writeWhileHeld(held, token, () => viewsOf(held));
        waiting = waiting.filter((jobId) => !held.includes(jobId));
        // The time spent writing is not the others' writers holding on.
        deadline = Date.now() + 2 * this.lockMs;
      }
      if (waiting.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`the view of job ${waiting.join(', ')} stayed locked for ${(2 * this.lockMs) / 1000} s; the reconciler will write it`);
      await sleep(10);
    }
  }

  private async writeWhileHeld(jobIds: readonly string[], token: string, viewsOf: () => Promise<JobView[]>): Promise<void> {
    const { redis, keys, store } = this.opts;
    let outcomes: unknown;
    try {
      const views = await viewsOf();
      const saved = await store.saveViews(views);
      // Only the statuses of views saved: an older status never follows a newer one.
      const moved = views.filter((v) => saved.has(v.jobId));
      await store.setTenantStatuses(moved.map((v) => ({ slug: v.tenant.slug, jobId: v.jobId, status: v.status })));
      // A job whose live state is gone has nothing newer to write: unmark it.
      const seqs = new Map(views.map((v) => [v.jobId, v.seq]));
      outcomes = await RELEASE_AFTER_WRITE.run(
        redis,
        [keys.staleViews(), ...jobIds.flatMap((jobId) => [keys.viewLock(jobId), keys.jobState(jobId)])],
        [token, ...jobIds.flatMap((jobId) => [seqs.get(jobId) ?? 0, jobId])],
      );
    } catch (err) {
      await RELEASE.run(
        redis,
        jobIds.map((jobId) => keys.viewLock(jobId)),
        [token],
      );
      throw err;
    }
    // Our write may have landed on top of a newer one made meanwhile; every other writer finishes before it lets go.
    const lost = jobIds.filter((_, i) => Array.isArray(outcomes) && outcomes[i] === 'lost');
    if (lost.length > 0) await this.underLocks(lost, (held) => this.latest(held));
  }

  /** The jobs' live views; none for a job whose live state is gone. */
  private async latest(jobIds: readonly string[]): Promise<JobView[]> {
    const views = await Promise.all(
      jobIds.map(async (jobId) => {
        const live = await liveJob(this.opts, jobId);
        return live ? buildJobView(live.definition, live.state) : null;
      }),
    );
    return views.filter((v) => v !== null);
  }
}

/** XINFO's flat [name, value, name, value, …] reply as a map. */
function fieldsOf(reply: unknown): Map<unknown, unknown> {
  const fields = new Map<unknown, unknown>();
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) fields.set(reply[i], reply[i + 1]);
  return fields;
}

/** Stream entry ids ("ms-seq") in stream order. */
export function compareEntryIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/** Runs `reconcile` now and every `everyMs` until stopped, never two runs at once. */
export function startReconciler(views: ViewSync, opts: { everyMs: number; olderThanMs: number; onError(err: unknown): void }): () => Promise<void> {
  let current: Promise<void> | undefined;
  const tick = () => {
    current ??= views
      .reconcile(opts.olderThanMs)
      .then(() => undefined, opts.onError)
      .finally(() => {
        current = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, opts.everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await current;
  };
}
