/**
 * Idempotency keys in MongoDB (FerretDB locally), in `api_idempotency_keys`:
 * the caller and key make the `_id`, so of two requests claiming one key at
 * once exactly one inserts (the unique key is the one arbiter FerretDB has);
 * the other reads the winner's record. Each record has one writer after that
 * (the claimant). Each record's expiry is a stored date: MongoDB removes
 * expired records itself (a TTL index on it); FerretDB has no TTL indexes, so
 * there expiry is checked on read and swept now and then.
 */
import { MongoServerError, type Collection, type Db } from 'mongodb';
import { z } from 'zod';
import type { IdempotencyRecord, IdempotencyStore, KeptAnswer } from '../ports/idempotency.ts';

/** The server's code for a feature it does not have (FerretDB: TTL indexes). */
const NOT_IMPLEMENTED = 238;

type KeyDoc = { _id: string; requestHash: string; claimedAt: Date; expiresAt: Date; answer?: KeptAnswer };

const KeyDocSchema = z.object({
  _id: z.string(),
  requestHash: z.string(),
  claimedAt: z.date(),
  expiresAt: z.date(),
  answer: z.object({ status: z.number().int(), body: z.string() }).optional(),
});

export class MongoIdempotencyStore implements IdempotencyStore {
  private readonly keys: Collection<KeyDoc>;

  constructor(db: Db) {
    this.keys = db.collection<KeyDoc>('api_idempotency_keys');
  }

  /** The TTL index where the server has them (MongoDB); FerretDB answers NotImplemented, and the sweep does its work. */
  async ensureIndexes(): Promise<void> {
    try {
      await this.keys.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === NOT_IMPLEMENTED)) throw err;
    }
  }

  async claim(record: Omit<IdempotencyRecord, 'answer'>): Promise<{ claimed: true } | { claimed: false; held: IdempotencyRecord | null }> {
    const { id, ...rest } = record;
    try {
      await this.keys.insertOne({ _id: id, ...rest });
      return { claimed: true };
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 11000)) throw err;
      return { claimed: false, held: await this.read(id) };
    }
  }

  async read(id: string): Promise<IdempotencyRecord | null> {
    const parsed = KeyDocSchema.safeParse(await this.keys.findOne({ _id: id }));
    if (!parsed.success) return null;
    const { _id, answer, ...rest } = parsed.data;
    return { id: _id, ...rest, ...(answer ? { answer } : {}) };
  }

  async complete(id: string, claimedAt: Date, answer: KeptAnswer): Promise<void> {
    await this.keys.updateOne({ _id: id, claimedAt }, { $set: { answer } });
  }

  async release(id: string, claimedAt: Date): Promise<void> {
    await this.keys.deleteOne({ _id: id, claimedAt });
  }

  async sweep(now: Date): Promise<void> {
    await this.keys.deleteMany({ expiresAt: { $lt: now } });
  }
}
