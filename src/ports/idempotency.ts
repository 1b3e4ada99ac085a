/**
 * Requests kept under their Idempotency-Key: a caller retrying a request
 * (after a timeout, a dropped connection, a crash of ours) with the same key
 * gets the first answer again instead of a second effect. Stored durably, so
 * a retry after a restart replays too.
 */

/** The first answer, as sent (status and JSON text). */
export type KeptAnswer = { status: number; body: string };

export type IdempotencyRecord = {
  /** The caller and its key: keys are the caller's own, so two callers never share one. */
  id: string;
  /** What was asked (method, path and body, canonical): the same key for another request is the caller's mistake. */
  requestHash: string;
  claimedAt: Date;
  /** Past this the key is forgotten (the store has no TTL index: checked on read). */
  expiresAt: Date;
  /** Absent while the first request is still being answered. */
  answer?: KeptAnswer;
};

export interface IdempotencyStore {
  /** Records a claim on the key unless one is held; then the record holding it (null when it vanished meanwhile). */
  claim(record: Omit<IdempotencyRecord, 'answer'>): Promise<{ claimed: true } | { claimed: false; held: IdempotencyRecord | null }>;
  read(id: string): Promise<IdempotencyRecord | null>;
  /** Keeps the answer on the claim made at `claimedAt`. */
  complete(id: string, claimedAt: Date, answer: KeptAnswer): Promise<void>;
  /** Removes the record if it is still the claim made at `claimedAt` (an answer not worth keeping, or a claim abandoned by a crash). */
  release(id: string, claimedAt: Date): Promise<void>;
  /** Removes every record that expired before `now`. */
  sweep(now: Date): Promise<void>;
}
