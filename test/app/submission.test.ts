/**
 * Submitting deals at API speed: a new deal is stored and started without
 * reading the store, a deal seen before is found through the opportunity
 * index in Redis, and whatever the index says or has lost, the store still
 * keeps exactly one job per opportunity.
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { OpportunityTakenError } from '../../src/domain/errors.ts';
import { jobIdFor } from '../../src/domain/job-definition.ts';
import { appPerTest, dealFor, waitForStatus, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 10 }), sandbox('dns', { latencyMs: 10 }, { needs: ['database'] }));

const text = (value: unknown) => String(value);

/** The slug reservations as stored: slug → the job holding it. */
async function reservations(app: TestApp): Promise<Map<string, string>> {
  const mongo = new MongoClient(app.config.mongoUri);
  try {
    const docs = await mongo.db(app.dbName).collection<{ _id: string; jobId: string }>('tenants').find().toArray();
    return new Map(docs.map((d) => [d._id, d.jobId]));
  } finally {
    await mongo.close();
  }
}

/** Every store method the app calls from now on, by name, in order (the store still does the work). */
function storeCalls(app: TestApp): string[] {
  const calls: string[] = [];
  const store: object = app.store;
  for (const name of ['getJob', 'findByOpportunity', 'findJobs', 'jobSummaries', 'reserveTenant', 'releaseTenant', 'createJob']) {
    const real: unknown = Reflect.get(store, name);
    if (typeof real !== 'function') throw new Error(`the store has no ${name}`);
    Reflect.set(store, name, (...args: unknown[]) => {
      calls.push(name);
      return Reflect.apply(real, store, args);
    });
  }
  return calls;
}

async function refusal(answer: Promise<unknown>): Promise<OpportunityTakenError> {
  const err: unknown = await answer.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OpportunityTakenError)) throw new Error(`expected the opportunity to be refused, got ${String(err)}`);
  return err;
}

describe('submitting deals at API speed', () => {
  const startApp = appPerTest();

  it('stores and starts a new deal with two inserts and no read, and answers the same deal again from Redis alone', async () => {
    const app = await startApp({ pipeline: PIPELINE });
    const calls = storeCalls(app);
    const deal = dealFor();

    const first = await app.service.provision(deal, REQUESTER);
    expect(first.outcome).toBe('created');
    expect(calls).toEqual(['reserveTenant', 'createJob']);
    // The answer is the job as just started: its first step released, nothing read back.
    expect(first.job.steps.find((s) => s.id === 'database')?.state).toBe('ready');

    calls.length = 0;
    const again = await app.service.provision({ ...deal }, REQUESTER);
    expect(again).toMatchObject({ outcome: 'existing', job: { jobId: first.job.jobId } });
    expect(calls).toEqual([]);
    expect((await waitForStatus(app, first.job.jobId, ['live', 'failed'])).status).toBe('live');
  });

  it('20 callers sending one deal at once, and others changing it, make exactly one job; the changed copies are refused and reserve nothing', async () => {
    const app = await startApp({ pipeline: PIPELINE });
    const deal = dealFor();
    const changed: Record<string, unknown>[] = [
      { ...deal, contractValue: 99_000 },
      { ...deal, slug: `${text(deal['slug'])}-two`, companyName: 'Acme Two' },
      { ...deal, adminEmail: 'someone-else@acme.example' },
    ];
    const sent: Record<string, unknown>[] = [...Array.from({ length: 20 }, () => ({ ...deal })), ...changed];
    const answers = await Promise.allSettled(sent.map((d) => app.service.provision(d, REQUESTER)));

    const stored = (await app.store.jobSummaries()).filter((j) => j.crmOpportunityId === deal['crmOpportunityId']);
    expect(stored).toHaveLength(1);
    const jobId = stored[0]?.jobId;
    const accepted = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    expect(accepted.filter((a) => a.outcome === 'created')).toHaveLength(1);
    expect(accepted.every((a) => a.job.jobId === jobId)).toBe(true);
    // Whichever copy won, every other one either is the same deal (answered with its job) or is refused naming the job.
    for (const [i, answer] of answers.entries()) {
      if (answer.status === 'fulfilled') continue;
      expect(answer.reason, `submission ${i}`).toBeInstanceOf(OpportunityTakenError);
      expect(answer.reason).toMatchObject({ holderJobId: jobId });
    }
    expect(answers.filter((a) => a.status === 'rejected').length).toBeGreaterThanOrEqual(1);
    // Only the job's own slug is reserved, and no losing copy left live state behind.
    expect([...(await reservations(app)).values()]).toEqual([jobId]);
    for (const d of sent) {
      const id = jobIdFor({ slug: text(d['slug']), crmOpportunityId: text(d['crmOpportunityId']) });
      if (id !== jobId) expect(await app.engine.view(id), id).toBeNull();
    }
    if (!jobId) throw new Error('no job stored');
    expect((await waitForStatus(app, jobId, ['live', 'failed'])).status).toBe('live');
  });

  it('an opportunity left claimed by a process that died before storing its job goes to the next deal that asks', async () => {
    const app = await startApp({ pipeline: PIPELINE });
    const deal = dealFor();
    const opportunity = text(deal['crmOpportunityId']);
    // The crash: the opportunity points at a job that was never stored.
    expect(await app.opportunities.claim(opportunity, 'job-that-never-was')).toBeNull();

    const { outcome, job } = await app.service.provision(deal, REQUESTER);
    expect(outcome).toBe('created');
    expect(await app.opportunities.claim(opportunity, 'another-job')).toBe(job.jobId);
    const other = await refusal(app.service.provision({ ...deal, slug: `${text(deal['slug'])}-b`, companyName: 'Acme B' }, REQUESTER));
    expect(other.holderJobId).toBe(job.jobId);
  });

  it('a job whose opportunity the index has lost (stored before it, or Redis lost the key) is still the one job of that opportunity', async () => {
    const app = await startApp({ pipeline: PIPELINE });
    const deal = dealFor();
    const opportunity = text(deal['crmOpportunityId']);
    const { job } = await app.service.provision(deal, REQUESTER);
    const forget = () => app.engine.redis.del(`${app.prefix}:opportunity:${opportunity}`);

    await forget();
    expect(await app.service.provision({ ...deal }, REQUESTER)).toMatchObject({ outcome: 'existing', job: { jobId: job.jobId } });

    // Another deal on that opportunity, with a free slug: refused, and its slug not left reserved.
    await forget();
    const freeSlug = `${text(deal['slug'])}-free`;
    await refusal(app.service.provision({ ...deal, slug: freeSlug, companyName: 'Globex' }, REQUESTER));
    expect((await reservations(app)).has(freeSlug)).toBe(false);

    // Another deal on that opportunity asking for a slug another tenant holds: refused on the opportunity, not the slug.
    const { job: initech } = await app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await forget();
    const taken = await refusal(app.service.provision({ ...deal, slug: initech.tenant.slug, companyName: 'Globex' }, REQUESTER));
    expect(taken.holderJobId).toBe(job.jobId);

    // Each answer put the opportunity back in the index.
    expect(await app.opportunities.claim(opportunity, 'another-job')).toBe(job.jobId);
  });
});
