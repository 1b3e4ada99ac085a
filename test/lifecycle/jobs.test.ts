/**
 * Lifecycle jobs on the engine: a live tenant suspended, reactivated, moved to
 * another plan and decommissioned, each as a job of its own kind with its own
 * pipeline, approvals and trail; the tenant's status follows the status machine.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotAllowedError, TenantBusyError, TenantTransitionRefusedError } from '../../src/domain/errors.ts';
import { parseJobDefinition } from '../../src/domain/job-definition.ts';
import { kindOf } from '../../src/domain/job-kind.ts';
import type { Identity } from '../../src/domain/policy.ts';
import { appPerTest, auditOf, dealFor, stepStates, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 5, resource: '${tenant.databaseName}' }));
const DANA = person('dana.approver', 'approver');
const SAM = person('sam.approver', 'approver');
const STRIPE: Identity = { door: 'api', id: 'stripe', name: 'Stripe', roles: new Set() };

describe('lifecycle jobs', () => {
  const start = appPerTest();

  /** A starter tenant, provisioned and live. */
  async function liveTenant(app: TestApp, deal: Record<string, unknown> = {}): Promise<string> {
    const { job } = await app.service.provision(dealFor(deal), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    await waitForRecord(app, job.jobId);
    return job.tenant.slug;
  }

  it('suspends a live tenant after an approver agrees, then reactivates it; each is a job with its own trail', async () => {
    const app = await start({ pipeline: PIPELINE });
    const slug = await liveTenant(app);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');

    const asked = await app.service.lifecycle.suspend(slug, DANA, { reason: 'customer asked for a pause' });
    expect(asked.outcome).toBe('created');
    expect(asked.job.kind).toBe('suspend');
    expect(asked.job.steps.map((s) => s.id)).toEqual(['approval_gate', 'sign_in', 'tenant_status']);
    await waitForStatus(app, asked.job.jobId, ['awaiting_approval']);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');

    // The newest job of the tenant is the suspension: `approve <slug>` finds it. Four eyes: Dana asked, Sam approves.
    await expect(app.service.approve(slug, DANA)).rejects.toThrow(NotAllowedError);
    await app.service.approve(slug, SAM);
    const done = await waitForStatus(app, asked.job.jobId, ['live', 'failed']);
    // A starter tenant has no Okta app: its sign-in step has nothing to change.
    expect(stepStates(done)).toEqual({ approval_gate: 'succeeded', sign_in: 'succeeded', tenant_status: 'succeeded' });
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('suspended');

    const back = await app.service.lifecycle.reactivate(slug, DANA, { reason: 'paused by mistake' });
    expect(back.job.steps.map((s) => s.id)).toEqual(['sign_in', 'tenant_status']);
    await waitForStatus(app, back.job.jobId, ['live']);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');

    const { text } = await auditOf(app, back.job);
    expect(text).toContain(
      `dana.approver from the CLI asked to suspend Acme Corp (slug ${slug}): "customer asked for a pause". Needs approval: Suspending a tenant asked for by a person needs approval.`,
    );
    expect(text).toContain(`Suspended ${slug}`);
    expect(text).toContain(`dana.approver from the CLI asked to reactivate Acme Corp (slug ${slug}): "paused by mistake".`);
    expect(text).toContain(`Reactivated ${slug}`);
  });

  it('lets a billing source suspend without an approver, with the source in the trail', async () => {
    const app = await start({ pipeline: PIPELINE });
    const slug = await liveTenant(app);
    const { job } = await app.service.lifecycle.suspend(slug, STRIPE, {
      reason: 'invoice unpaid after the grace period',
      source: 'Stripe invoice.payment_failed in_123',
      requestKey: 'evt_123',
    });
    expect(job.steps.map((s) => s.id)).toEqual(['sign_in', 'tenant_status']);
    await waitForStatus(app, job.jobId, ['live']);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('suspended');
    const { text } = await auditOf(app, job);
    expect(text).toContain(
      `Stripe invoice.payment_failed in_123 asked to suspend Acme Corp (slug ${slug}): "invoice unpaid after the grace period".`,
    );
  });

  it('makes one job of the same request sent twice, at once or later, and of a request repeated while its job runs', async () => {
    const app = await start({ pipeline: PIPELINE });
    const slug = await liveTenant(app);
    const ask = { reason: 'payment failed', requestKey: 'evt_twice' };
    const [first, second] = await Promise.all([app.service.lifecycle.suspend(slug, STRIPE, ask), app.service.lifecycle.suspend(slug, STRIPE, ask)]);
    expect(second.job.jobId).toBe(first.job.jobId);
    expect([first.outcome, second.outcome].sort()).toEqual(['created', 'existing']);
    await waitForStatus(app, first.job.jobId, ['live']);
    // Redelivered after it is done: still that job, not a refusal because the tenant is suspended now.
    const later = await app.service.lifecycle.suspend(slug, STRIPE, ask);
    expect(later).toMatchObject({ outcome: 'existing', job: { jobId: first.job.jobId, status: 'live' } });

    // A person asking twice without a request key, while the first waits for approval: the same job.
    // (Decommissioning always waits for one; a reactivation runs at once and may be done before the repeat.)
    const again = await app.service.lifecycle.decommission(slug, DANA, { reason: 'contract ended' });
    await waitForStatus(app, again.job.jobId, ['awaiting_approval']);
    const repeated = await app.service.lifecycle.decommission(slug, DANA, { reason: 'contract ended' });
    expect(repeated).toMatchObject({ outcome: 'existing', job: { jobId: again.job.jobId } });
    const jobs = await app.store.findJobs({ search: slug, limit: 10 });
    expect(jobs.map((j) => kindOf(j.definition)).sort()).toEqual(['decommission', 'provision', 'suspend']);
  });

  it('refuses what the status machine does not allow, and a second change while one is under way, saying why', async () => {
    const app = await start({ pipeline: PIPELINE });
    const slug = await liveTenant(app);
    await expect(app.service.lifecycle.reactivate(slug, DANA, { reason: 'try it' })).rejects.toThrow(
      new TenantTransitionRefusedError(`${slug} is already live`, 'live', 'reactivate'),
    );
    const decommission = await app.service.lifecycle.decommission(slug, DANA, { reason: 'contract ended' });
    await waitForStatus(app, decommission.job.jobId, ['awaiting_approval']);
    const busy = app.service.lifecycle.suspend(slug, DANA, { reason: 'not paying' });
    await expect(busy).rejects.toThrow(TenantBusyError);
    await expect(busy).rejects.toThrow(
      `${slug} is busy: another job is already decommissioning it (job ${decommission.job.jobId}). Wait for it to finish, or cancel it, before asking to suspend it`,
    );
    // Once the decommissioning is rejected the tenant is free again, and still live.
    await app.service.reject(slug, SAM, 'we keep this customer');
    await waitForStatus(app, decommission.job.jobId, ['rejected']);
    await waitForRecord(app, decommission.job.jobId);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');
    const { job } = await app.service.lifecycle.suspend(slug, STRIPE, { reason: 'not paying', requestKey: 'evt_after' });
    await waitForStatus(app, job.jobId, ['live']);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('suspended');
  });

  it('refuses a tenant that is not live yet, an unknown tenant, and a requester asking to suspend', async () => {
    const app = await start({ pipeline: PIPELINE });
    // A large growth deal waits for the deal desk: the tenant is still being provisioned.
    const { job } = await app.service.provision(dealFor({ plan: 'growth', contractValue: 150_000 }), REQUESTER);
    await expect(app.service.lifecycle.suspend(job.tenant.slug, DANA, { reason: 'too early' })).rejects.toThrow(
      `You cannot suspend ${job.tenant.slug}: it is still being provisioned, and only a tenant that is live can be suspended`,
    );
    await expect(app.service.lifecycle.suspend('nobody-here', DANA, { reason: 'who?' })).rejects.toThrow('there is no tenant "nobody-here"');
    await expect(app.service.lifecycle.suspend(job.tenant.slug, REQUESTER, { reason: 'please' })).rejects.toThrow(
      'Only approvers can suspend tenants; ask one of them.',
    );
  });

  it('decommissions only after approval, marking the tenant decommissioned and keeping its record', async () => {
    const app = await start({ pipeline: PIPELINE, env: { DECOMMISSION_GRACE_DAYS: '0', EXPORTS_DIR: mkdtempSync(path.join(tmpdir(), 'exports-')) } });
    const slug = await liveTenant(app);
    const { job } = await app.service.lifecycle.decommission(slug, DANA, { reason: 'contract ended' });
    const parked = await waitForStatus(app, job.jobId, ['awaiting_approval']);
    expect(parked.steps.find((s) => s.id === 'approval_gate')?.waitingFor).toBe('Decommissioning a tenant always needs approval');
    await app.service.approve(slug, SAM);
    await waitForStatus(app, job.jobId, ['live']);
    expect(await app.service.lifecycle.tenant(slug)).toMatchObject({ slug, status: 'decommissioned', companyName: 'Acme Corp' });
  });

  it('puts a tenant back where it was when a lifecycle job is rolled back', async () => {
    const app = await start({ pipeline: PIPELINE });
    const slug = await liveTenant(app);
    const { job } = await app.service.lifecycle.suspend(slug, STRIPE, { reason: 'payment failed', requestKey: 'evt_undo' });
    await waitForStatus(app, job.jobId, ['live']);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('suspended');
    await app.service.rollback(job.jobId, DANA, 'the payment had arrived');
    await waitForStatus(app, job.jobId, ['rolled_back']);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');
  });

  it('reads a job stored before kinds existed as a provisioning job', async () => {
    const app = await start({ pipeline: PIPELINE });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const stored = await app.store.getJob(job.jobId);
    if (!stored) throw new Error('not stored');
    const { kind: _kind, ...old } = stored.definition;
    const parsed = parseJobDefinition(JSON.stringify(old));
    expect(parsed.kind).toBeUndefined();
    expect(kindOf(parsed)).toBe('provision');
  });
});
