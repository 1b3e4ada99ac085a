import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { parseEvent, type JobEvent } from '../../src/domain/events.ts';
import type { JobView } from '../../src/domain/job-view.ts';
import { recordEntries } from '../../src/engine/recorder.ts';
import type { StreamEntry } from '../../src/engine/stream-consumer.ts';
import { ViewSync } from '../../src/engine/view-sync.ts';
import { appPerTest, dealFor, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const SIBLINGS = Array.from({ length: 12 }, (_, i) => `step_${i}`);
const PIPELINE = pipelineOf(sandbox('first', { resource: 'first' }), ...SIBLINGS.map((id) => sandbox(id, { resource: id }, { needs: ['first'] })));

const TWO_ROOTS = pipelineOf(
  sandbox('database', { resource: 'database' }),
  sandbox('dns', { resource: 'dns record' }),
  sandbox('billing', { resource: 'subscription' }, { needs: ['database', 'dns'] }),
);

/** What a worker records when it claims a step, or when the step succeeds. */
async function play(app: TestApp, jobId: string, stepId: string, what: 'started' | 'succeeded'): Promise<void> {
  const event: JobEvent = { type: 'step.started', jobId, stepId, at: Date.now(), actor: 'engine', summary: `Step ${stepId} started` };
  if (what === 'started') {
    expect((await app.engine.state.claim(jobId, stepId, 1, 'run', event)).status).toBe('ok');
  } else {
    const done: JobEvent = { ...event, type: 'step.succeeded', summary: `${stepId} created` };
    expect(await app.engine.state.finish(jobId, { stepId, ticket: 1, phase: 'run' }, 'succeeded', done, {})).not.toBeNull();
  }
}

/** The event the job's last state change appended to the stream (other jobs' events come in between). */
async function latestEntry(app: TestApp, jobId: string): Promise<StreamEntry> {
  for (const [id, fields] of await app.engine.redis.xrevrange(app.engine.keys.events(), '+', '-', 'COUNT', 500)) {
    const event = parseEvent(fields?.[1] ?? '');
    if (event?.jobId === jobId) return { id, event };
  }
  throw new Error(`no event of job ${jobId} on the stream`);
}

function viewSyncOptions(app: TestApp) {
  return { redis: app.engine.redis, keys: app.engine.keys, state: app.engine.state, definitions: app.engine.definitions, store: app.store };
}

function viewSync(app: TestApp): ViewSync {
  return new ViewSync(viewSyncOptions(app));
}

/** The jobs whose stored view differs from their live state, and how. */
async function staleViews(app: TestApp, jobIds: readonly string[]): Promise<string[]> {
  const stale: string[] = [];
  for (const jobId of jobIds) {
    const [live, stored] = await Promise.all([app.engine.view(jobId), app.store.getJob(jobId)]);
    if (!live || !sameView(stored?.view, live)) {
      stale.push(`${jobId}: stored seq ${stored?.view.seq} status ${stored?.view.status}, live seq ${live?.seq} status ${live?.status}`);
    }
  }
  return stale;
}

function sameView(stored: JobView | undefined, live: JobView): boolean {
  return JSON.stringify(stored) === JSON.stringify(live);
}

/** The tenants as the store holds them (the slug's owner and its status), in slug order. */
async function tenantStatuses(app: TestApp): Promise<{ _id: string; jobId: string; status: string }[]> {
  const mongo = new MongoClient(app.config.mongoUri);
  try {
    const docs = await mongo.db(app.dbName).collection('tenants').find({}).sort({ _id: 1 }).toArray();
    return docs.map((d) => ({ _id: String(d['_id']), jobId: String(d['jobId']), status: String(d['status']) }));
  } finally {
    await mongo.close();
  }
}

describe('several recorders write the same jobs at once', () => {
  const start = appPerTest();

  it('eight recorders handling interleaved batches leave every stored view and tenant status equal to the live state', async () => {
    // No workers and no recorder of its own: the test plays the workers, and up to eight recorders follow at once.
    const app = await start({ pipeline: PIPELINE, runWorkers: false });
    const views = viewSync(app);
    const record = (entries: StreamEntry[]) =>
      recordEntries({ state: app.engine.state, definitions: app.engine.definitions, store: app.store, views }, entries);
    const provisioned = await Promise.all(Array.from({ length: 10 }, () => app.service.provision(dealFor(), REQUESTER)));
    // All jobs at once; within a job, each state change's event goes to the next recorder while the seven before it may still be writing.
    const playAndRecord = async (job: JobView) => {
      const writing: Promise<void>[] = [];
      const recordLatest = async () => {
        if (writing.length >= 8) await writing.shift();
        writing.push(record([await latestEntry(app, job.jobId)]));
      };
      await recordLatest(); // job.created
      for (const stepId of ['first', ...SIBLINGS]) {
        await play(app, job.jobId, stepId, 'started');
        await recordLatest();
        await play(app, job.jobId, stepId, 'succeeded');
        await recordLatest();
      }
      await Promise.all(writing);
    };
    await Promise.all(provisioned.map(({ job }) => playAndRecord(job)));

    const jobIds = provisioned.map(({ job }) => job.jobId);
    for (const jobId of jobIds) expect((await app.engine.view(jobId))?.status).toBe('live');
    expect(await staleViews(app, jobIds)).toEqual([]);
    const tenants = provisioned.map(({ job }) => ({ _id: job.tenant.slug, jobId: job.jobId, status: 'live' }));
    expect(await tenantStatuses(app)).toEqual(tenants.sort((x, y) => x._id.localeCompare(y._id)));
  });

  it('a job whose live state moved with no event left to carry it is rewritten by the reconciler', async () => {
    // No workers and no recorder in this process: the test plays the worker, and nothing records what happens.
    const app = await start({ pipeline: TWO_ROOTS, runWorkers: false });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    await play(app, job.jobId, 'database', 'started');
    const failed: JobEvent = { type: 'step.failed', jobId: job.jobId, stepId: 'database', at: Date.now(), actor: 'engine', summary: 'refused' };
    await app.engine.state.finish(job.jobId, { stepId: 'database', ticket: 1, phase: 'run' }, 'failed', failed, {});
    // The dns step was queued before the failure: a worker picking it up now holds it back, which moves the job without an event.
    const started: JobEvent = { ...failed, type: 'step.started', stepId: 'dns', summary: 'Step dns started' };
    expect((await app.engine.state.claim(job.jobId, 'dns', 1, 'run', started)).status).toBe('held');
    const live = await app.engine.view(job.jobId);
    expect(live?.steps.map((s) => `${s.id} ${s.state}`)).toEqual(['database failed', 'dns pending', 'billing pending']);
    expect((await app.store.getJob(job.jobId))?.view.status).toBe('running');

    const views = viewSync(app);
    expect(await views.reconcile(60_000)).toBe(0); // not behind for a minute yet
    expect(await views.reconcile(0)).toBe(1);
    expect((await app.store.getJob(job.jobId))?.view).toEqual(live);
    expect(await tenantStatuses(app)).toEqual([{ _id: job.tenant.slug, jobId: job.jobId, status: 'failed' }]);
    expect(await views.reconcile(0)).toBe(0); // up to date: no longer marked
  });

  it('the reconciler leaves a job to a recorder that is behind, so no view is stored ahead of its audit', async () => {
    const app = await start({ pipeline: TWO_ROOTS, runWorkers: false });
    const stream = app.engine.keys.events();
    // A recorder far behind: its group exists, and what it was handed it has not stored yet.
    await app.engine.redis.xgroup('CREATE', stream, 'recorder', '0', 'MKSTREAM');
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    await play(app, job.jobId, 'database', 'started');
    const views = new ViewSync({ ...viewSyncOptions(app), recorderGroup: 'recorder' });
    expect(await views.reconcile(0)).toBe(0); // not handed over yet
    const handed = await app.engine.redis.xreadgroup('GROUP', 'recorder', 'slow', 'COUNT', 100, 'STREAMS', stream, '>');
    const entries = (handed ?? []).flatMap(([, list]) => list.map(([id, fields]) => ({ id, event: parseEvent(fields?.[1] ?? '') })));
    expect(await views.reconcile(0)).toBe(0); // handed over, not stored
    expect(await app.store.getJob(job.jobId)).toMatchObject({ view: { seq: 0, status: 'running' } }); // as created

    const recorded = entries.flatMap((e) => (e.event ? [{ id: e.id, event: e.event }] : []));
    await recordEntries({ state: app.engine.state, definitions: app.engine.definitions, store: app.store, views }, recorded);
    await app.engine.redis.xack(stream, 'recorder', ...recorded.map((e) => e.id));
    const live = await app.engine.view(job.jobId);
    expect((await app.store.getJob(job.jobId))?.view).toEqual(live);
    const { lines } = await app.service.audit(job.tenant.slug, { verbose: true });
    expect(lines.join('\n')).toContain('Step database started');

    // A recorder that never gets there is waited for only so long.
    await play(app, job.jobId, 'database', 'succeeded');
    const impatient = new ViewSync({ ...viewSyncOptions(app), recorderGroup: 'recorder', recorderPatienceMs: 0 });
    expect(await impatient.reconcile(0)).toBe(1);
  });
});

describe('a recorder writes a batch of jobs together', () => {
  const start = appPerTest();

  it('one batch holding more jobs than the store has connections stores every view and tenant status', async () => {
    // FerretDB kept a connection per updateOne of a command until the command ended: one command (of four) holding
    // more updates than its 50 connections waited for itself for good.
    const app = await start({ pipeline: TWO_ROOTS, runWorkers: false });
    const provisioned: Awaited<ReturnType<typeof app.service.provision>>[] = [];
    while (provisioned.length < 210)
      provisioned.push(...(await Promise.all(Array.from({ length: 30 }, () => app.service.provision(dealFor(), REQUESTER)))));
    const jobIds = provisioned.map(({ job }) => job.jobId);
    for (const jobId of jobIds) await play(app, jobId, 'database', 'started');
    const batch = await Promise.all(jobIds.map((jobId) => latestEntry(app, jobId)));

    await recordEntries({ state: app.engine.state, definitions: app.engine.definitions, store: app.store, views: viewSync(app) }, batch);

    expect(await staleViews(app, jobIds)).toEqual([]);
    for (const jobId of jobIds) expect((await app.store.getJob(jobId))?.view.steps[0]?.state).toBe('running');
    expect((await tenantStatuses(app)).map((t) => t.status)).toEqual(jobIds.map(() => 'running'));
  });

  it("a job whose view another recorder is writing waits for it, while the batch's other jobs are written at once", async () => {
    const app = await start({ pipeline: TWO_ROOTS, runWorkers: false });
    const [busy, free] = await Promise.all([app.service.provision(dealFor(), REQUESTER), app.service.provision(dealFor(), REQUESTER)]);
    const jobIds = [busy.job.jobId, free.job.jobId];
    for (const jobId of jobIds) await play(app, jobId, 'database', 'started');
    const lock = app.engine.keys.viewLock(busy.job.jobId);
    await app.engine.redis.set(lock, 'another recorder', 'PX', 10_000);

    const saving = viewSync(app).saveAll(await Promise.all(jobIds.map(async (jobId) => (await app.engine.view(jobId)) ?? busy.job)));
    await expect.poll(async () => (await app.store.getJob(free.job.jobId))?.view.seq, { timeout: 5_000 }).toBeGreaterThan(0);
    expect((await app.store.getJob(busy.job.jobId))?.view.seq).toBe(0); // still the other recorder's turn

    await app.engine.redis.del(lock);
    await saving;
    expect(await staleViews(app, jobIds)).toEqual([]);
  });
});
