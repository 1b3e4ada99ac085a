/**
 * Inserts into one collection that arrive while earlier ones are on their
 * way to the store go together, as one unordered insertMany: one round trip
 * and one statement for many documents, where FerretDB spends about half the
 * CPU per document that separate inserts cost. An insert that finds nothing
 * on its way goes at once, alone, so a lone caller waits no longer than
 * before. Each document still stands or falls alone: a duplicate key is
 * answered to its own caller, and the others are stored all the same.
 */
import { MongoBulkWriteError, MongoServerError, type Collection, type OptionalUnlessRequiredId } from 'mongodb';

const DUPLICATE_KEY = 11000;
/** FerretDB and MongoDB both take far more; this bounds one statement's size and the wait of its first caller. */
const MAX_BATCH = 100;

type Waiting<T> = { doc: OptionalUnlessRequiredId<T>; settle: (outcome: 'inserted' | 'duplicate') => void; fail: (err: unknown) => void };

export class InsertBatches<T extends { _id: string }> {
  private readonly collection: Collection<T>;
  private readonly maxInFlight: number;
  private queue: Waiting<T>[] = [];
  private inFlight = 0;

  /** `maxInFlight`: how many batches may be on their way at once (the store works on several connections). */
  constructor(collection: Collection<T>, opts: { maxInFlight?: number } = {}) {
    this.collection = collection;
    this.maxInFlight = opts.maxInFlight ?? 2;
  }

  /** Inserts `doc`; 'duplicate' when a unique index (its _id or another) already holds its key. */
  insert(doc: OptionalUnlessRequiredId<T>): Promise<'inserted' | 'duplicate'> {
    return new Promise((settle, fail) => {
      this.queue.push({ doc, settle, fail });
      if (this.inFlight < this.maxInFlight) this.send();
    });
  }

  private send(): void {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.inFlight += 1;
    void this.write(batch).finally(() => {
      this.inFlight -= 1;
      if (this.queue.length > 0) this.send();
    });
  }

  private async write(batch: Waiting<T>[]): Promise<void> {
    try {
      await this.collection.insertMany(
        batch.map((w) => w.doc),
        { ordered: false },
      );
      for (const w of batch) w.settle('inserted');
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) {
        for (const w of batch) w.fail(err);
        return;
      }
      const failed = new Map((Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]).map((e) => [e.index, e]));
      for (const [i, w] of batch.entries()) {
        const error = failed.get(i);
        if (error?.code === DUPLICATE_KEY) w.settle('duplicate');
        else if (error) w.fail(new MongoServerError({ message: error.errmsg ?? `insert failed with code ${error.code}`, code: error.code }));
        // Written, but not as durably as asked (a write concern error): as a lone insert would, it fails.
        else if (err.err) w.fail(err);
        else w.settle('inserted');
      }
    }
  }
}
