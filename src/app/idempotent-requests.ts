/**
 * Idempotency-Key, as Stripe and the IETF draft have it: the first request
 * with a key claims it and its answer is kept for 24 hours; the same key with
 * the same request replays that answer, with another request it is refused.
 * Requests with one key at once are answered once: the others wait for the
 * first answer (and answer "still in progress" if it takes too long). A claim
 * left by a process that died before answering is taken over after a while,
 * so a retry after a crash is answered; the work it guards must itself be
 * idempotent (provisioning is, by opportunity), since it may then run again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { IdempotencyRecord, IdempotencyStore, KeptAnswer } from '../ports/idempotency.ts';

export type IdempotencySettings = {
  /** How long a key and its answer are kept (24 h). */
  keepMs: number;
  /** How long a second request waits for the first one's answer. */
  waitMs: number;
  /** After this, a claim still without an answer was abandoned (its process died). */
  abandonedAfterMs: number;
  pollMs: number;
};

export const IDEMPOTENCY_DEFAULTS: IdempotencySettings = { keepMs: 24 * 3_600_000, waitMs: 10_000, abandonedAfterMs: 30_000, pollMs: 20 };

/** The work's answer, and whether it is worth keeping (a refused request is not: the caller will fix it and retry). */
export type Work = () => Promise<{ answer: KeptAnswer; keep: boolean }>;

export type Outcome =
  | { kind: 'answered'; answer: KeptAnswer; replayed: boolean }
  /** The key was used for another request. */
  | { kind: 'key_reused' }
  /** A request with this key is still being answered. */
  | { kind: 'in_progress' };

const SWEEP_EVERY_MS = 3_600_000;
/** Claims lost to expiry or a takeover in between: far more than ever happens in a row. */
const MAX_ROUNDS = 5;

export class IdempotentRequests {
  private readonly store: IdempotencyStore;
  private readonly settings: IdempotencySettings;
  private readonly now: () => Date;
  private lastSweep = 0;

  constructor(store: IdempotencyStore, settings: Partial<IdempotencySettings> = {}, now: () => Date = () => new Date()) {
    this.store = store;
    this.settings = { ...IDEMPOTENCY_DEFAULTS, ...settings };
    this.now = now;
  }

  /** Runs `work` once for this caller's key and request, or answers as the first request with the key was answered. */
  async once(caller: string, key: string, requestHash: string, work: Work): Promise<Outcome> {
    const id = `${caller}:${key}`;
    await this.sweepNowAndThen();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const claimedAt = this.now();
      const claim = await this.store.claim({ id, requestHash, claimedAt, expiresAt: new Date(claimedAt.getTime() + this.settings.keepMs) });
      if (claim.claimed) return this.answer(id, claimedAt, work);
      const held = await this.settled(id, claim.held, requestHash);
      if (held === 'gone') continue;
      if (held.requestHash !== requestHash) return { kind: 'key_reused' };
      if (held.answer) return { kind: 'answered', answer: held.answer, replayed: true };
      if (this.now().getTime() - held.claimedAt.getTime() < this.settings.abandonedAfterMs) return { kind: 'in_progress' };
      await this.store.release(id, held.claimedAt); // abandoned: take it over
    }
    return { kind: 'in_progress' };
  }

  private async answer(id: string, claimedAt: Date, work: Work): Promise<Outcome> {
    let result: Awaited<ReturnType<Work>>;
    try {
      result = await work();
    } catch (err) {
      await this.store.release(id, claimedAt);
      throw err;
    }
    if (result.keep) await this.store.complete(id, claimedAt, result.answer);
    else await this.store.release(id, claimedAt);
    return { kind: 'answered', answer: result.answer, replayed: false };
  }

  /**
   * The record holding the key once it has an answer (waiting for it while it is being answered), or
   * at once when it is for another request or abandoned; 'gone' when the key is free again (released,
   * or expired and removed).
   */
  private async settled(id: string, first: IdempotencyRecord | null, requestHash: string): Promise<IdempotencyRecord | 'gone'> {
    const deadline = Date.now() + this.settings.waitMs;
    let record = first;
    while (record) {
      const now = this.now().getTime();
      if (record.expiresAt.getTime() <= now) {
        await this.store.release(id, record.claimedAt);
        return 'gone';
      }
      const abandoned = now - record.claimedAt.getTime() >= this.settings.abandonedAfterMs;
      if (record.answer || record.requestHash !== requestHash || abandoned || Date.now() >= deadline) return record;
      await sleep(this.settings.pollMs);
      record = await this.store.read(id);
    }
    return 'gone';
  }

  /** Expired keys are forgotten on read; this clears the ones nobody reads again, at most once an hour per process. */
  private async sweepNowAndThen(): Promise<void> {
    const now = this.now();
    if (now.getTime() - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now.getTime();
    await this.store.sweep(now);
  }
}
