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
 *   stored just before.
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
import type { JobStateStore } from './job-state.ts';
import type { Keys } from './keys.ts';
import { Script } from './script.ts';

/**
 * KEYS[1] = the job's view lock, KEYS[2] = its state hash, KEYS[3] = the stale views set.
 * ARGV: lock token, the sequence number just written, job id.
 * 'released' (and the job unmarked if that was its live state), or 'lost': the
 * lock expired and another writer may have taken it meanwhile.
 */
const RELEASE_AFTER_WRITE = new Script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
local live = redis.call('HGET', KEYS[2], '_seq')
if not live or tonumber(live) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[3], ARGV[3]) end
redis.call('DEL', KEYS[1])
return 'released'
`);

/** KEYS[1] = a lock, ARGV[1] = its token: deletes it only if it is still ours. */
const RELEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
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

  /** Saves a view of the job (and its tenant status) unless a newer one is stored. */
  async save(view: JobView): Promise<void> {
    const token = await this.waitForLock(view.jobId);
    await this.writeWhileHeld(view.jobId, token, async () => view);
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
    let rewritten = 0;
    for (let i = 0; i < marked.length; i += 2) {
      const jobId = marked[i] ?? '';
      const lastEvent = await redis.hget(keys.jobState(jobId), '_evid');
      if (lastEvent !== null && !recorded(lastEvent) && Number(marked[i + 1]) > now - patience) continue;
      const token = randomUUID();
      // A writer holding the lock is at it already; a lock never released expires, and the next round gets the job.
      if (await this.take(jobId, token)) {
        await this.writeWhileHeld(jobId, token, () => this.latest(jobId));
        rewritten += 1;
      }
    }
    return rewritten;
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

  private async take(jobId: string, token: string): Promise<boolean> {
    return (await this.opts.redis.set(this.opts.keys.viewLock(jobId), token, 'PX', this.lockMs, 'NX')) === 'OK';
  }

  /** Another writer holds the lock for one write; one that died holding it lets go when the lock expires. */
  private async waitForLock(jobId: string): Promise<string> {
    const token = randomUUID();
    const deadline = Date.now() + 2 * this.lockMs;
    while (!(await this.take(jobId, token))) {
      if (Date.now() > deadline)
        throw new Error(`the view of job ${jobId} stayed locked for ${(2 * this.lockMs) / 1000} s; the reconciler will write it`);
      await sleep(10);
    }
    return token;
  }

  private async writeWhileHeld(jobId: string, token: string, viewOf: () => Promise<JobView | null>): Promise<void> {
    const { redis, keys, store } = this.opts;
    let outcome: unknown;
    try {
      const view = await viewOf();
      if (view && (await store.saveView(view))) await store.setTenantStatus(view.tenant.slug, jobId, view.status);
      // A job whose live state is gone has nothing newer to write: unmark it.
      outcome = await RELEASE_AFTER_WRITE.run(redis, [keys.viewLock(jobId), keys.jobState(jobId), keys.staleViews()], [token, view?.seq ?? 0, jobId]);
    } catch (err) {
      await RELEASE.run(redis, [keys.viewLock(jobId)], [token]);
      throw err;
    }
    if (outcome === 'lost') {
      // Our write may have landed on top of a newer one made meanwhile; every other writer finishes before it lets go.
      const again = await this.waitForLock(jobId);
      await this.writeWhileHeld(jobId, again, () => this.latest(jobId));
    }
  }

  private async latest(jobId: string): Promise<JobView | null> {
    const [definition, state] = await Promise.all([this.opts.definitions.get(jobId), this.opts.state.read(jobId)]);
    return definition && state ? buildJobView(definition, state) : null;
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
