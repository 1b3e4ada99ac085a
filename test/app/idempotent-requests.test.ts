/**
 * Idempotency-Key records on the real store (FerretDB here): a key is kept
 * for 24 hours and then forgotten, a request that failed frees its key, and
 * keys are each caller's own. The HTTP tests (test/http/provisioning-api)
 * show the same through the API; these turn the clock.
 */
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoIdempotencyStore } from '../../src/adapters/mongo-idempotency.ts';
import { IdempotentRequests, type Work } from '../../src/app/idempotent-requests.ts';
import { loadConfig } from '../../src/config.ts';

const HOUR = 3_600_000;

describe('keys kept for a day', () => {
  let mongo: MongoClient;
  let db: Db;
  let clock: number;
  let requests: IdempotentRequests;

  beforeEach(async () => {
    mongo = new MongoClient(loadConfig().mongoUri);
    db = mongo.db(`test_idem_${randomBytes(4).toString('hex')}`);
    const store = new MongoIdempotencyStore(db);
    // MongoDB gets a TTL index; FerretDB has none and says so, which must not stop the server.
    await store.ensureIndexes();
    clock = Date.parse('2026-12-04T09:00:00Z');
    requests = new IdempotentRequests(store, {}, () => new Date(clock));
  });

  afterEach(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  /** Work that answers `status` with a body naming the run, counting its runs. */
  function counted(status: number, keep = true): { work: Work; runs: () => number } {
    let runs = 0;
    return {
      work: async () => ({ answer: { status, body: JSON.stringify({ run: ++runs }) }, keep }),
      runs: () => runs,
    };
  }

  it('replays the first answer within 24 hours, and forgets the key after them', async () => {
    const first = counted(202);
    expect(await requests.once('salesforce', 'k1', 'body-a', first.work)).toEqual({
      kind: 'answered',
      answer: { status: 202, body: '{"run":1}' },
      replayed: false,
    });
    clock += 23 * HOUR;
    expect(await requests.once('salesforce', 'k1', 'body-a', first.work)).toMatchObject({
      kind: 'answered',
      replayed: true,
      answer: { body: '{"run":1}' },
    });
    expect(await requests.once('salesforce', 'k1', 'body-b', first.work)).toEqual({ kind: 'key_reused' });
    clock += 2 * HOUR;
    // A day on, the key is new again: even for another body.
    expect(await requests.once('salesforce', 'k1', 'body-b', first.work)).toMatchObject({
      kind: 'answered',
      replayed: false,
      answer: { body: '{"run":2}' },
    });
    expect(first.runs()).toBe(2);
  });

  it('frees the key of a request that failed or was refused, so the fixed retry runs', async () => {
    const failing: Work = async () => {
      throw new Error('the store is down');
    };
    await expect(requests.once('salesforce', 'k2', 'body-a', failing)).rejects.toThrow('the store is down');
    const refused = counted(422, false);
    expect(await requests.once('salesforce', 'k2', 'body-a', refused.work)).toMatchObject({ kind: 'answered', answer: { status: 422 } });
    const fixed = counted(202);
    expect(await requests.once('salesforce', 'k2', 'body-fixed', fixed.work)).toMatchObject({
      kind: 'answered',
      answer: { status: 202 },
      replayed: false,
    });
  });

  it('keeps each caller’s keys apart', async () => {
    const work = counted(202);
    await requests.once('salesforce', 'same-key', 'body-a', work.work);
    expect(await requests.once('hubspot', 'same-key', 'body-b', work.work)).toMatchObject({ kind: 'answered', replayed: false });
    expect(work.runs()).toBe(2);
  });
});
