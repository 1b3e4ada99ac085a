/**
 * The KPI facts are worked out from a job's trail only when its stored view
 * moved on, kept in the store, and read back by the next process instead of
 * the trail; a process serving the web follows the jobs as they change.
 */
import { describe, expect, it } from 'vitest';
import { MongoKpiStore } from '../../src/adapters/mongo-kpi-store.ts';
import { KpiFactsKeeper } from '../../src/app/kpi-facts.ts';
import type { JobEvent } from '../../src/domain/events.ts';
import type { FeedListener } from '../../src/engine/feed.ts';
import { appPerTest, dealFor, waitForRecord, waitForStatus } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { billingFails } from '../support/slack-app.ts';
import { MongoClient } from 'mongodb';

const SAM = person('sam.approver', 'approver');

describe('the KPI facts keeper', () => {
  const startApp = appPerTest();

  it('works a job out once per change of its stored view, keeps it, and a new process reads it back instead of the trail', async () => {
    const app = await startApp({ pipeline: billingFails(1) });
    const { job } = await app.service.provision(dealFor({ companyName: 'Globex' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['failed']);
    const failed = await waitForRecord(app, job.jobId);

    expect(await app.kpiFacts.catchUp()).toBe(1);
    const [first] = app.kpiFacts.jobFacts();
    expect(first).toMatchObject({ jobId: job.jobId, seq: failed.seq, steps: [{ type: 'sandbox', runs: 2, failures: 1, unrecovered: 1 }] });
    expect(first?.liveAt).toBeUndefined();
    // Nothing moved: nothing is read again.
    expect(await app.kpiFacts.catchUp()).toBe(0);

    await app.service.retry(job.jobId, SAM, 'billing');
    await waitForStatus(app, job.jobId, ['live']);
    const live = await waitForRecord(app, job.jobId);
    expect(await app.kpiFacts.catchUp()).toBe(1);
    const [facts] = app.kpiFacts.jobFacts();
    expect(facts).toMatchObject({ jobId: job.jobId, seq: live.seq, handoffs: { retry: 1 }, liveAt: expect.any(Number) });
    expect(facts?.steps.find((s) => s.type === 'sandbox')).toMatchObject({ runs: 4, failures: 1, unrecovered: 0 });

    // Another process on the same store: the facts come back from kpi_facts, with nothing behind.
    const mongo = new MongoClient(app.config.mongoUri);
    try {
      const kpis = new MongoKpiStore(mongo.db(app.dbName));
      const errors: unknown[] = [];
      const next = new KpiFactsKeeper({ jobs: app.store, kpis, onError: (err) => errors.push(err) });
      expect(await next.catchUp()).toBe(0);
      expect(next.jobFacts()).toEqual([facts]);
      expect(errors).toEqual([]);
    } finally {
      await mongo.close();
    }
  });

  it('in a process serving the web, follows each job as it changes, without a full check', async () => {
    const app = await startApp({ pipeline: billingFails(0), serveWeb: true });
    // Started with nothing to check; every later change comes through the event feed.
    await expect.poll(() => app.kpiFacts.lastCatchUp?.behind).toBe(0);
    const checked = app.kpiFacts.lastCatchUp?.at;
    const { job } = await app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    await expect.poll(() => app.kpiFacts.jobFacts()[0]?.liveAt, { timeout: 10_000 }).toEqual(expect.any(Number));
    expect(app.kpiFacts.lastCatchUp?.at).toBe(checked);
  });

  it('a change heard of while the job is being looked at is looked at too, not dropped with the one before', async () => {
    const app = await startApp({ pipeline: billingFails(1) });
    const { job } = await app.service.provision(dealFor({ companyName: 'Globex' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['failed']);
    const failed = await waitForRecord(app, job.jobId);

    // The keeper's reads of the store, one of which we can hold up after it read (as a slow store would).
    let hold: Promise<void> | undefined;
    let release: () => void = () => undefined;
    let held = false;
    const jobs = {
      getJob: async (jobId: string) => {
        const record = await app.store.getJob(jobId);
        if (hold) {
          held = true;
          await hold;
        }
        return record;
      },
      audit: (query: { jobIds: readonly string[]; limit: number }) => app.store.audit(query),
    };
    const listeners: FeedListener[] = [];
    const feed = {
      subscribe: (listener: FeedListener) => {
        listeners.push(listener);
        return () => undefined;
      },
    };
    const heard = (seq: number) => {
      const event: JobEvent = { type: 'step.succeeded', jobId: job.jobId, seq, at: Date.now(), actor: 'engine', summary: 'x' };
      for (const listener of listeners) listener(event);
    };
    const mongo = new MongoClient(app.config.mongoUri);
    const keeper = new KpiFactsKeeper({ jobs, kpis: new MongoKpiStore(mongo.db(app.dbName)), onError: () => undefined });
    await keeper.catchUp();
    const following = keeper.follow(feed, { settleMs: 20 });
    try {
      hold = new Promise((resolve) => {
        release = resolve;
      });
      heard(failed.seq);
      await expect.poll(() => held).toBe(true);
      // While the keeper looks at the failed job, it is retried and goes live.
      await app.service.retry(job.jobId, SAM, 'billing');
      await waitForStatus(app, job.jobId, ['live']);
      const live = await waitForRecord(app, job.jobId);
      heard(live.seq);
      hold = undefined;
      release();
      await expect.poll(() => keeper.jobFacts()[0]?.liveAt, { timeout: 5_000 }).toEqual(expect.any(Number));
    } finally {
      release();
      await following.stop();
      await mongo.close();
    }
  });
});
