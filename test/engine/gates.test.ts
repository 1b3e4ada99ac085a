import { afterEach, describe, expect, it } from 'vitest';
import { ActionRefusedError } from '../../src/domain/errors.ts';
import {
  auditOf,
  dealFor,
  startTestApp,
  stepOf,
  stepStates,
  stopTestApp,
  storedView,
  timesOf,
  waitForRecord,
  waitForStatus,
  type TestApp,
} from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: '${tenant.databaseName}' }),
  sandbox('billing', { latencyMs: 10, resource: '${plan.billing.priceRef}' }, { needs: ['database'] }),
);

/** A growth deal at or above the 100,000 threshold: the deal desk must approve it first. */
const bigGrowthDeal = (overrides: Record<string, unknown> = {}) => dealFor({ plan: 'growth', contractValue: 150_000, ...overrides });

describe('approval gate', () => {
  let app: TestApp | undefined;
  const start = async (): Promise<TestApp> => (app = await startTestApp({ pipeline: PIPELINE }));
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  it('parks a large growth deal until an approver says yes; nothing runs before', async () => {
    const app = await start();
    const { job } = await app.service.provision(bigGrowthDeal(), REQUESTER);
    expect(job.steps.map((s) => s.id)).toEqual(['approval_gate', 'database', 'billing']);
    expect(stepOf(job, 'database').needs).toEqual(['approval_gate']);

    const parked = await waitForStatus(app, job.jobId, ['awaiting_approval', 'live', 'failed']);
    expect(parked.status).toBe('awaiting_approval');
    expect(stepStates(parked)).toEqual({ approval_gate: 'waiting_approval', database: 'pending', billing: 'pending' });
    expect(stepOf(parked, 'approval_gate').waitingFor).toBe('Contract value 150,000 is at or above the 100,000 approval threshold');
    expect(stepOf(parked, 'database').startedAt).toBeUndefined();
    expect(await app.ledger.inventory()).toEqual({ resources: {}, creations: {} });
    const { text: before } = await auditOf(app, job);
    expect(before).toContain(
      `jane.ae requested a growth tenant for Acme Corp (slug ${job.tenant.slug}) from the CLI. Needs approval: Contract value 150,000 is at or above the 100,000 approval threshold.`,
    );
    expect(before).toContain('Waiting for approval: Contract value 150,000 is at or above the 100,000 approval threshold');

    const approved = await app.service.approve(job.tenant.slug, person('sam.approver'));
    expect(['running', 'live']).toContain(approved.status);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepOf(live, 'approval_gate').approvedBy).toBe('sam.approver');
    expect(timesOf(stepOf(live, 'database')).startedAt).toBeGreaterThanOrEqual(timesOf(stepOf(live, 'approval_gate')).finishedAt);
    expect(Object.keys((await app.ledger.inventory()).resources)).toHaveLength(2);

    const { text } = await auditOf(app, job);
    expect(text).toContain('sam.approver approved approval gate');
    expect(text).toContain('Approved by sam.approver');
    expect(text).toContain(`Tenant ${job.tenant.slug} is live`);
  });

  it('a rejection with a reason stops the job before anything runs and frees the slug for a new deal', async () => {
    const app = await start();
    const { job } = await app.service.provision(bigGrowthDeal(), REQUESTER);
    await waitForStatus(app, job.jobId, ['awaiting_approval']);

    const rejected = await app.service.reject(job.tenant.slug, person('dana.dealdesk'), 'discount was not signed off');
    expect(rejected.status).toBe('rejected');
    expect(stepStates(rejected)).toEqual({ approval_gate: 'failed', database: 'pending', billing: 'pending' });
    expect(await app.ledger.inventory()).toEqual({ resources: {}, creations: {} });
    // A late click on the old approval button is refused.
    await expect(app.service.approve(job.tenant.slug, person('sam.approver'))).rejects.toBeInstanceOf(ActionRefusedError);

    const { text, job: stored } = await auditOf(app, job);
    expect(stored.status).toBe('rejected');
    expect(text).toContain('dana.dealdesk rejected approval gate from the CLI: "discount was not signed off"');
    expect(text).not.toContain('approved approval gate');

    // The same slug on a new deal (smaller, so no approval) is accepted and provisioned.
    const again = await app.service.provision(dealFor({ slug: job.tenant.slug }), REQUESTER);
    expect(again.outcome).toBe('created');
    expect(again.job.jobId).not.toBe(job.jobId);
    expect((await waitForStatus(app, again.job.jobId, ['live', 'failed'])).status).toBe('live');
    expect((await app.service.status(job.tenant.slug)).jobId).toBe(again.job.jobId);
    expect((await storedView(app, job.jobId)).status).toBe('rejected');
  });
});

const INPUT_PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 10, resource: 'database' }),
  sandbox('sso', { latencyMs: 10, waitForInput: true, resource: 'sso-${intake.slug}' }, { needs: ['database'] }),
  sandbox('welcome_email', { resource: '${intake.adminEmail}' }, { needs: ['sso'], criticality: 'notification' }),
);

describe('a step waiting for input', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  it('waits for the customer IdP metadata, then goes on once someone provides it', async () => {
    app = await startTestApp({ pipeline: INPUT_PIPELINE });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const waiting = await waitForStatus(app, job.jobId, ['awaiting_input', 'live', 'failed']);
    expect(waiting.status).toBe('awaiting_input');
    expect(stepStates(waiting)).toEqual({ database: 'succeeded', sso: 'waiting_input', welcome_email: 'pending' });
    expect(stepOf(waiting, 'sso').waitingFor).toBe("the customer's IdP metadata URL");

    await app.service.provideInput(job.tenant.slug, person('jane.ae'), { metadataUrl: 'https://idp.acme.example/metadata' });
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', sso: 'succeeded', welcome_email: 'succeeded' });
    expect(stepOf(live, 'sso').waitingFor).toBeUndefined();
    expect((await app.ledger.inventory()).creations).toEqual({
      [`${job.jobId}.database`]: '1',
      [`${job.jobId}.sso`]: '1',
      [`${job.jobId}.welcome_email`]: '1',
    });

    const { text } = await auditOf(app, job);
    expect(text).toContain("Step sso is waiting for the customer's IdP metadata URL");
    expect(text).toContain('jane.ae provided the input step sso was waiting for');
    expect(text).toContain(`sso-${job.tenant.slug} created`);
  });

  it('still waits after the bot restarts, and goes on when the input arrives', async () => {
    const first = await startTestApp({ pipeline: INPUT_PIPELINE });
    app = first;
    const { job } = await first.service.provision(dealFor(), REQUESTER);
    await waitForStatus(first, job.jobId, ['awaiting_input']);
    await waitForRecord(first, job.jobId);
    await first.close();

    app = await startTestApp({ pipeline: INPUT_PIPELINE, reuse: { prefix: first.prefix, dbName: first.dbName } });
    const after = await app.service.status(job.tenant.slug);
    expect(after.status).toBe('awaiting_input');
    expect(stepStates(after)).toEqual({ database: 'succeeded', sso: 'waiting_input', welcome_email: 'pending' });

    await app.service.provideInput(job.tenant.slug, person('jane.ae'), { metadataUrl: 'https://idp.acme.example/metadata' });
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(Object.values((await app.ledger.inventory()).creations)).toEqual(['1', '1', '1']);
    const { text } = await auditOf(app, job);
    expect(text).toContain('jane.ae provided the input step sso was waiting for');
    expect(text).toContain(`Tenant ${job.tenant.slug} is live`);
  });
});
