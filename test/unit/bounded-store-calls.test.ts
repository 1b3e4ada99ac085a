import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { boundedCalls } from '../../src/adapters/mongo-client.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { CLOSED_PORT } from '../support/step-context.ts';

/** A store whose calls the test steers: one never answers, one is refused by the server, one answers. */
class SteeredStore {
  answered = 0;
  async neverAnswers(): Promise<void> {
    await new Promise<void>(() => undefined);
  }
  async refused(): Promise<void> {
    throw new Error('E11000 duplicate key');
  }
  async answers(): Promise<number> {
    this.answered += 1;
    return this.answered;
  }
  /** Not a call to the store: left alone. */
  describe(): string {
    return 'steered';
  }
}

describe('store calls are bounded', () => {
  it('a call the store never answers fails, in time, as "store unavailable", naming the call', async () => {
    const store = boundedCalls(new SteeredStore(), { name: 'store', deadlineMs: 200 });
    const started = Date.now();
    const failure = await store.neverAnswers().catch((err: unknown) => err);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect(String(failure)).toContain('store.neverAnswers got no answer from the store within 0.2 s');
  });

  it('a server that cannot be reached is "store unavailable" too; what the server refused stays what it was', async () => {
    const client = new MongoClient(`mongodb://127.0.0.1:${CLOSED_PORT}/`, { serverSelectionTimeoutMS: 300 });
    const db = boundedCalls(client.db('nowhere'), { name: 'tenant data' });
    const unreachable = await db.command({ ping: 1 }).catch((err: unknown) => err);
    expect(unreachable).toBeInstanceOf(StoreUnavailableError);
    expect(String(unreachable)).toContain('tenant data.command could not reach the store');
    await client.close();

    const store = boundedCalls(new SteeredStore(), { name: 'store', deadlineMs: 200 });
    await expect(store.refused()).rejects.toThrow(/^E11000 duplicate key$/);
    expect(await store.answers()).toBe(1);
    expect(store.answered).toBe(1);
    expect(store.describe()).toBe('steered');
  });
});
