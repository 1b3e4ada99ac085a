/**
 * Every job's KPI facts and every tenant's first workflow uses, held in
 * memory so the KPI page only aggregates, and kept in the store so a restart
 * does not read the whole audit again.
 *
 * A job's facts are worked out again only when its stored view has moved past
 * the sequence number they were read at. The recorder stores a job's audit
 * before its view, so a stored view at seq N means the trail up to N is
 * stored: facts read from the view's seq and the trail after it are complete
 * up to N. In `provisioner serve` the keeper follows the event feed (a job
 * that changed is looked at again once its stored view caught up) and checks
 * every job's seq now and then, for changes it did not hear of.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FirstActivation } from '../domain/activation.ts';
import { jobFacts, type JobFacts } from '../domain/kpi-facts.ts';
import type { EventFeed } from '../engine/feed.ts';
import type { JobStore, KpiStore } from '../ports/store.ts';

export type KpiFactsDeps = {
  jobs: Pick<JobStore, 'getJob' | 'audit'>;
  kpis: KpiStore;
  onError(err: unknown): void;
};

/** More than any one job's trail holds (each retry adds a few entries). */
const TRAIL_LIMIT = 100_000;
/** Jobs read at once when catching up: the store serves the page meanwhile. */
const AT_ONCE = 4;

export class KpiFactsKeeper {
  private readonly deps: KpiFactsDeps;
  private readonly facts = new Map<string, JobFacts>();
  private readonly firsts = new Map<string, FirstActivation>();
  private loading: Promise<void> | undefined;
  private followers = 0;
  /** Moves on with every change, so a report worked out from the same facts can be reused. */
  version = 0;
  /** The last full check of every job: when it ended, how many jobs were behind, and how long it took. */
  lastCatchUp: { at: number; behind: number; ms: number } | undefined;

  constructor(deps: KpiFactsDeps) {
    this.deps = deps;
  }

  /** Whether something keeps these facts current in the background (the serve process). */
  get following(): boolean {
    return this.followers > 0;
  }

  jobFacts(): JobFacts[] {
    return [...this.facts.values()];
  }

  firstActivations(): FirstActivation[] {
    return [...this.firsts.values()];
  }

  /** What the store kept, once per process. */
  load(): Promise<void> {
    this.loading ??= (async () => {
      const [facts, firsts] = await Promise.all([this.deps.kpis.kpiFacts(), this.deps.kpis.firstActivations()]);
      for (const f of facts) this.keep(f);
      for (const f of firsts) this.noteFirstUse(f);
    })();
    return this.loading;
  }

  /** Works out again the facts of every job whose stored view moved on; returns how many. */
  async catchUp(signal?: AbortSignal): Promise<number> {
    const started = Date.now();
    await this.load();
    const seqs = await this.deps.kpis.jobSeqs();
    const behind = [...seqs].filter(([jobId, seq]) => seq > (this.facts.get(jobId)?.seq ?? -1)).map(([jobId]) => jobId);
    for (let i = 0; i < behind.length && !signal?.aborted; i += AT_ONCE) {
      await Promise.all(behind.slice(i, i + AT_ONCE).map((jobId) => this.refreshJob(jobId)));
    }
    this.lastCatchUp = { at: Date.now(), behind: behind.length, ms: Date.now() - started };
    return behind.length;
  }

  /**
   * Reads the job's facts again if its stored view moved on. 'behind': the
   * stored view has not reached `wantedSeq` yet (the recorder is still at it).
   */
  async refreshJob(jobId: string, wantedSeq = 0): Promise<'current' | 'behind'> {
    const record = await this.deps.jobs.getJob(jobId);
    if (!record) return 'behind';
    const seq = record.view.seq;
    if (seq <= (this.facts.get(jobId)?.seq ?? -1)) return seq >= wantedSeq ? 'current' : 'behind';
    // The view first, then the trail: the trail read is at least as new as the view.
    const entries = await this.deps.jobs.audit({ jobIds: [jobId], limit: TRAIL_LIMIT });
    const facts = jobFacts(record.definition, seq, entries);
    await this.deps.kpis.saveKpiFacts(facts);
    this.keep(facts);
    return seq >= wantedSeq ? 'current' : 'behind';
  }

  /** A first use this process stored (the API took the event): counted at once, without waiting for a reload. */
  noteFirstUse(first: FirstActivation): void {
    const key = `${first.tenantSlug}/${first.workflow}`;
    const known = this.firsts.get(key);
    if (known && known.firstAt <= first.firstAt) return;
    this.firsts.set(key, first);
    this.version += 1;
  }

  private keep(facts: JobFacts): void {
    const known = this.facts.get(facts.jobId);
    if (known && known.seq >= facts.seq) return;
    this.facts.set(facts.jobId, facts);
    this.version += 1;
  }

  /**
   * Keeps the facts current in the background: the jobs the feed names once
   * their stored view caught up (looked at every `settleMs`, given up after
   * `patienceMs`, when the next full check finds them), every job's seq every
   * `checkEveryMs`, and the first uses other processes stored every `firstUsesEveryMs`.
   */
  follow(
    feed: Pick<EventFeed, 'subscribe'>,
    opts: { settleMs?: number; patienceMs?: number; checkEveryMs?: number; firstUsesEveryMs?: number } = {},
  ): { stop(): Promise<void> } {
    const settleMs = opts.settleMs ?? 500;
    const patience = Math.ceil((opts.patienceMs ?? 60_000) / settleMs);
    const pending = new Map<string, { seq: number; tries: number }>();
    const unsubscribe = feed.subscribe((event) => {
      const known = pending.get(event.jobId);
      pending.set(event.jobId, { seq: Math.max(known?.seq ?? 0, event.seq ?? 0), tries: 0 });
    });
    const stopped = new AbortController();
    const { signal } = stopped;
    const pause = (ms: number) =>
      sleep(ms, undefined, { signal }).then(
        () => !signal.aborted,
        () => false,
      );
    const settle = async () => {
      while (await pause(settleMs)) {
        for (const [jobId, wanted] of [...pending]) {
          if (signal.aborted) return;
          const outcome = await this.refreshJob(jobId, wanted.seq).catch((err: unknown) => {
            this.deps.onError(err);
            return 'behind' as const;
          });
          // A change heard of meanwhile replaced this entry: it is looked at next round, not dropped with this one.
          if (pending.get(jobId) !== wanted) continue;
          if (outcome === 'current' || wanted.tries + 1 >= patience) pending.delete(jobId);
          else pending.set(jobId, { ...wanted, tries: wanted.tries + 1 });
        }
      }
    };
    // Every job's seq is one read of the whole jobs collection (24 s at 10,000 jobs on FerretDB): rarely.
    const checkEveryMs = opts.checkEveryMs ?? 600_000;
    const check = async () => {
      do await this.catchUp(signal).catch(this.deps.onError);
      while (await pause(checkEveryMs));
    };
    // First uses other processes stored: one small document per tenant and workflow.
    const firstUses = async () => {
      while (await pause(opts.firstUsesEveryMs ?? 30_000)) await this.reloadFirstUses().catch(this.deps.onError);
    };
    const loops = Promise.all([settle(), check(), firstUses()]);
    this.followers += 1;
    return {
      stop: async () => {
        if (signal.aborted) return;
        stopped.abort();
        unsubscribe();
        await loops;
        this.followers -= 1;
      },
    };
  }

  private async reloadFirstUses(): Promise<void> {
    for (const first of await this.deps.kpis.firstActivations()) this.noteFirstUse(first);
  }
}
