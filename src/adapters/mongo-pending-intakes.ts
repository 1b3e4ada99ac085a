/**
 * Deals a CRM sent that need a person, in `pending_intakes` (FerretDB
 * locally). The delivery id is the `_id`, so a redelivery meets the unique
 * key, the one arbiter FerretDB has between concurrent writers. What the CRM
 * sent is kept as a list of {field, value} pairs, not as keys: a field name
 * is the CRM's to choose and may hold characters a key may not.
 */
import { MongoServerError, type Collection, type Db } from 'mongodb';
import { z } from 'zod';
import type { PendingIntake } from '../domain/crm-deal.ts';
import { redactText } from '../domain/redact.ts';
import type { PendingIntakeStore } from '../ports/store.ts';

const DUPLICATE_KEY = 11000;

const PendingDocSchema = z.object({
  _id: z.string(),
  source: z.string(),
  opportunityId: z.string(),
  receivedAt: z.date(),
  sent: z.array(z.object({ field: z.string(), value: z.string().nullable() })),
  prefill: z.record(z.string(), z.string()),
  problems: z.array(z.object({ field: z.string(), message: z.string() })),
  /** Copied out of `notice`, so the notices still to post are one equality filter. */
  noticed: z.boolean(),
  notice: z.object({ at: z.date(), ref: z.string() }).optional(),
  completed: z.object({ by: z.string(), jobId: z.string(), slug: z.string(), at: z.date() }).optional(),
});

type PendingDoc = z.output<typeof PendingDocSchema>;

export class MongoPendingIntakeStore implements PendingIntakeStore {
  private readonly pending: Collection<PendingDoc>;

  constructor(db: Db) {
    this.pending = db.collection('pending_intakes');
  }

  async ensurePendingIntakeIndexes(): Promise<void> {
    await this.pending.createIndex({ noticed: 1, receivedAt: 1 });
    await this.pending.createIndex({ opportunityId: 1 });
  }

  async recordPendingIntake(pending: PendingIntake): Promise<'recorded' | 'known'> {
    const { id, notice, completed, ...rest } = pending;
    const doc: PendingDoc = {
      _id: id,
      ...rest,
      sent: rest.sent.map(({ field, value }) => ({ field, value: value === null ? null : redactText(value) })),
      prefill: Object.fromEntries(Object.entries(rest.prefill).map(([field, value]) => [field, redactText(value)])),
      problems: rest.problems.map(({ field, message }) => ({ field, message: redactText(message) })),
      noticed: notice !== undefined,
      ...(notice ? { notice } : {}),
      ...(completed ? { completed } : {}),
    };
    try {
      await this.pending.insertOne(doc);
      return 'recorded';
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return 'known';
      throw err;
    }
  }

  async pendingIntake(id: string): Promise<PendingIntake | null> {
    const doc = await this.pending.findOne({ _id: id });
    return doc ? pendingOf(doc) : null;
  }

  async unnoticedPendingIntakes(before: Date, limit: number): Promise<PendingIntake[]> {
    const docs = await this.pending.find({ noticed: false }).toArray();
    return docs
      .flatMap((doc) => {
        const pending = pendingOf(doc);
        return pending && !pending.completed && pending.receivedAt < before ? [pending] : [];
      })
      .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime())
      .slice(0, limit);
  }

  async markPendingIntakeNoticed(id: string, notice: NonNullable<PendingIntake['notice']>): Promise<void> {
    await this.pending.updateOne({ _id: id }, { $set: { noticed: true, notice } });
  }

  async markPendingIntakeCompleted(id: string, completed: NonNullable<PendingIntake['completed']>): Promise<void> {
    await this.pending.updateOne({ _id: id }, { $set: { completed } });
  }
}

/** A stored document as the domain's PendingIntake; null for one this version cannot read. */
function pendingOf(doc: unknown): PendingIntake | null {
  const parsed = PendingDocSchema.safeParse(doc);
  if (!parsed.success) return null;
  const { _id, noticed: _noticed, notice, completed, ...rest } = parsed.data;
  return { id: _id, ...rest, ...(notice ? { notice } : {}), ...(completed ? { completed } : {}) };
}
