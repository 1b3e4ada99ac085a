/**
 * Inserts batched on the real store (FerretDB here): those that arrive
 * together share round trips, a lone one goes at once, and each caller is
 * answered about its own document — stored, a duplicate, or refused.
 */
import { randomBytes } from 'node:crypto';
import { type Collection, type Db, MongoClient, MongoServerError } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InsertBatches } from '../../src/adapters/insert-batches.ts';
import { loadConfig } from '../../src/config.ts';

type Doc = { _id: string; opportunity: string; [field: string]: unknown };

describe('inserts batched on their way to the store', () => {
  let mongo: MongoClient;
  let db: Db;
  let jobs: Collection<Doc>;
  /** The documents of each insert command sent, in order. */
  let sent: number[];

  beforeEach(async () => {
    mongo = new MongoClient(loadConfig().mongoUri, { monitorCommands: true });
    db = mongo.db(`test_batches_${randomBytes(4).toString('hex')}`);
    jobs = db.collection<Doc>('jobs');
    await jobs.createIndex({ opportunity: 1 }, { unique: true });
    sent = [];
    mongo.on('commandStarted', (event) => {
      const documents: unknown = event.command['documents'];
      if (event.commandName === 'insert' && Array.isArray(documents)) sent.push(documents.length);
    });
  });

  afterEach(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  it('sends a lone insert at once, by itself', async () => {
    const batches = new InsertBatches(jobs);
    expect(await batches.insert({ _id: 'job-1', opportunity: 'opp-1' })).toBe('inserted');
    expect(sent).toEqual([1]);
    expect(await batches.insert({ _id: 'job-1', opportunity: 'opp-9' })).toBe('duplicate');
  });

  it('sends 40 inserts arriving together in a few round trips, and answers each duplicate to its own caller', async () => {
    const batches = new InsertBatches(jobs);
    const originals = Array.from({ length: 30 }, (_, i) => ({ _id: `job-${i}`, opportunity: `opp-${i}` }));
    // Five repeat a job id, five an opportunity: of each pair, exactly one is stored, whichever the store took first.
    const sameId = originals.slice(0, 5).map((o, i) => ({ _id: o._id, opportunity: `other-opp-${i}` }));
    const sameOpportunity = originals.slice(5, 10).map((o, i) => ({ _id: `other-job-${i}`, opportunity: o.opportunity }));
    const all = [...originals, ...sameId, ...sameOpportunity];
    const answers = await Promise.all(all.map((doc) => batches.insert(doc)));

    const answerOf = new Map<Doc, string>(all.map((doc, i) => [doc, answers[i] ?? 'none']));
    const pairs = [...sameId.map((d, i) => [originals[i], d]), ...sameOpportunity.map((d, i) => [originals[i + 5], d])];
    for (const pair of pairs) expect(pair.map((d) => (d ? answerOf.get(d) : 'none')).sort()).toEqual(['duplicate', 'inserted']);
    expect(answers.filter((a) => a === 'inserted')).toHaveLength(30);
    expect(await jobs.countDocuments()).toBe(30);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(40);
    expect(sent.length).toBeLessThanOrEqual(4);
  });

  it('fails only the caller whose document the store refuses; the others are stored', async () => {
    const batches = new InsertBatches(jobs);
    const answers = await Promise.allSettled([
      batches.insert({ _id: 'job-1', opportunity: 'opp-1' }),
      batches.insert({ _id: 'job-2', opportunity: 'opp-2' }),
      batches.insert({ _id: 'job-3', opportunity: 'opp-3', 'not.a.key': true }),
      batches.insert({ _id: 'job-4', opportunity: 'opp-4' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(answers[2]?.status === 'rejected' ? answers[2].reason : undefined).toBeInstanceOf(MongoServerError);
    expect((await jobs.find().toArray()).map((d) => d._id).sort()).toEqual(['job-1', 'job-2', 'job-4']);
    expect(sent.length).toBeLessThan(4);
  });
});
