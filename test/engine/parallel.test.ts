import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dealFor, startTestApp, stepOf, stopTestApp, timesOf, waitForStatus, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 300, resource: 'database' }),
  sandbox('dns', { latencyMs: 300, resource: 'dns record' }),
  sandbox('billing', { latencyMs: 10, resource: 'subscription' }, { needs: ['database', 'dns'] }),
);

describe('independent steps run at the same time', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ pipeline: PIPELINE });
  });
  afterEach(async () => {
    await stopTestApp(app);
  });

  it('runs two 300 ms siblings concurrently, so the job takes about as long as one of them', async () => {
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');

    const [db, rec, bill] = [timesOf(stepOf(live, 'database')), timesOf(stepOf(live, 'dns')), timesOf(stepOf(live, 'billing'))];
    // Each sibling started before the other finished: their run times overlap.
    expect(db.startedAt).toBeLessThan(rec.finishedAt);
    expect(rec.startedAt).toBeLessThan(db.finishedAt);
    const overlap = Math.min(db.finishedAt, rec.finishedAt) - Math.max(db.startedAt, rec.startedAt);
    expect(overlap).toBeGreaterThanOrEqual(200);
    // The join waits for both.
    expect(bill.startedAt).toBeGreaterThanOrEqual(Math.max(db.finishedAt, rec.finishedAt));
    // One after the other, the two siblings would take at least 600 ms.
    const siblings = Math.max(db.finishedAt, rec.finishedAt) - Math.min(db.startedAt, rec.startedAt);
    expect(siblings).toBeGreaterThanOrEqual(300);
    expect(siblings).toBeLessThan(450);
    // Start of the first step to end of the last, join included: still under the 610 ms the steps add up to.
    const total = bill.finishedAt - Math.min(db.startedAt, rec.startedAt);
    expect(total).toBeLessThan(600);

    const { creations } = await app.ledger.inventory();
    expect(Object.values(creations)).toEqual(['1', '1', '1']);
  });
});
