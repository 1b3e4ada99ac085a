import { describe, expect, it } from 'vitest';
import { ActionRefusedError, InvalidInputError } from '../../src/domain/errors.ts';
import { appPerTest, auditOf, dealFor, liveView, stepOf, stepStates, timesOf, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

/** How many times the sandbox counted a run of this step (failPermanentTimes counts runs). */
async function runsOf(app: TestApp, jobId: string, stepId: string): Promise<number> {
  return Number(await app.engine.redis.hget(`${app.engine.keys.sandbox()}:counters`, `${jobId}.${stepId}:runs`));
}

describe('operator actions on a stopped job', () => {
  const startApp = appPerTest();
  const start = (pipeline: string): Promise<TestApp> => startApp({ pipeline });

  it('retry runs the failed step again without re-running what already succeeded', async () => {
    const app = await start(
      pipelineOf(
        sandbox('database', { latencyMs: 10, resource: 'database' }),
        sandbox('feature_flags', { latencyMs: 10, resource: 'flags' }, { needs: ['database'] }),
        sandbox(
          'billing',
          { latencyMs: 10, failPermanentTimes: 1, resource: 'stripe customer' },
          { needs: ['feature_flags'], retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } } },
        ),
        sandbox('welcome_email', { resource: 'email' }, { needs: ['billing'], criticality: 'notification' }),
      ),
    );
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const failed = await waitForStatus(app, job.jobId, ['failed', 'live']);
    expect(failed.status).toBe('failed');
    expect(stepStates(failed)).toEqual({ database: 'succeeded', feature_flags: 'succeeded', billing: 'failed', welcome_email: 'pending' });

    const retried = await app.service.retry(job.tenant.slug, person('jane.ae'));
    expect(retried.status).not.toBe('failed');
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    // Earlier steps were not touched again.
    for (const id of ['database', 'feature_flags']) expect(timesOf(stepOf(live, id))).toEqual(timesOf(stepOf(failed, id)));
    expect(timesOf(stepOf(live, 'billing')).startedAt).toBeGreaterThanOrEqual(timesOf(stepOf(failed, 'billing')).finishedAt);
    expect(await runsOf(app, job.jobId, 'billing')).toBe(2);
    expect((await app.ledger.inventory()).creations).toEqual({
      [`${job.jobId}.database`]: '1',
      [`${job.jobId}.feature_flags`]: '1',
      [`${job.jobId}.billing`]: '1',
      [`${job.jobId}.welcome_email`]: '1',
    });

    const { text, entries } = await auditOf(app, job, { verbose: true });
    expect(text).toContain('Step billing failed: stripe customer: rejected by the sandbox (run 1)');
    expect(text).toContain('jane.ae retried step billing');
    expect(entries.filter((e) => e.type === 'step.started' && e.stepId === 'database')).toHaveLength(1);
    expect(entries.filter((e) => e.type === 'step.started' && e.stepId === 'billing')).toHaveLength(2);
    // Retrying a step that has not failed is refused.
    await expect(app.service.retry(job.tenant.slug, person('jane.ae'), 'billing')).rejects.toBeInstanceOf(ActionRefusedError);
  });

  it('override marks a failed step done by hand, with a reason, and its dependents run', async () => {
    const app = await start(
      pipelineOf(
        sandbox('database', { latencyMs: 10, resource: 'database' }),
        sandbox('billing', { failPermanently: true, resource: 'stripe customer' }, { needs: ['database'] }),
        sandbox('invoice', { latencyMs: 10, resource: 'first invoice' }, { needs: ['billing'] }),
        sandbox('welcome_email', { resource: 'email' }, { needs: ['invoice'], criticality: 'notification' }),
      ),
    );
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(app, job.jobId, ['failed']);
    const slug = job.tenant.slug;

    // No reason, no override.
    for (const reason of ['', '  ']) {
      const refused = app.service.override(slug, person('jane'), 'billing', reason);
      await expect(refused).rejects.toBeInstanceOf(InvalidInputError);
      await expect(refused).rejects.toMatchObject({ problems: [{ field: 'reason' }] });
    }
    // Only a failed or waiting step can be overridden.
    await expect(app.service.override(slug, person('jane'), 'database', 'already there')).rejects.toBeInstanceOf(ActionRefusedError);
    expect((await liveView(app, job.jobId)).status).toBe('failed');

    await app.service.override(slug, person('jane'), 'billing', 'created by hand in Stripe');
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', billing: 'overridden', invoice: 'succeeded', welcome_email: 'succeeded' });
    expect(stepOf(live, 'billing').override).toEqual({ by: 'jane', reason: 'created by hand in Stripe' });
    expect(timesOf(stepOf(live, 'invoice')).startedAt).toBeGreaterThanOrEqual(timesOf(stepOf(live, 'billing')).finishedAt);
    // The sandbox never created the customer: a person did.
    expect(Object.keys((await app.ledger.inventory()).resources).sort()).toEqual(
      [`${job.jobId}.database`, `${job.jobId}.invoice`, `${job.jobId}.welcome_email`].sort(),
    );

    const { lines, text } = await auditOf(app, job);
    expect(lines.filter((l) => l.endsWith('jane overrode billing from the CLI: "created by hand in Stripe"'))).toHaveLength(1);
    expect(text.indexOf('jane overrode billing')).toBeLessThan(text.indexOf('first invoice created'));
    expect(text).toContain(`Tenant ${slug} is live`);
  });
});

describe('two people clicking at once', () => {
  const startApp = appPerTest();
  const start = (pipeline: string): Promise<TestApp> => startApp({ pipeline });

  it('two concurrent approvals: exactly one wins, the other is refused, the audit has one approval', async () => {
    const app = await start(pipelineOf(sandbox('database', { latencyMs: 10, resource: 'database' })));
    const { job } = await app.service.provision(dealFor({ plan: 'growth', contractValue: 250_000 }), REQUESTER);
    await waitForStatus(app, job.jobId, ['awaiting_approval']);

    const results = await Promise.allSettled([
      app.service.approve(job.tenant.slug, person('sam.approver')),
      app.service.approve(job.tenant.slug, person('alex.approver')),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(ActionRefusedError);
    const winner = results[0].status === 'fulfilled' ? 'sam.approver' : 'alex.approver';

    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepOf(live, 'approval_gate').approvedBy).toBe(winner);
    expect(Object.values((await app.ledger.inventory()).creations)).toEqual(['1']);
    const { lines } = await auditOf(app, job);
    expect(lines.filter((l) => / approved approval gate from the CLI$/.test(l))).toEqual([
      expect.stringContaining(`${winner} approved approval gate`),
    ]);
  });

  it('two concurrent retries: exactly one wins and the step runs once more', async () => {
    const app = await start(
      pipelineOf(
        sandbox('database', { latencyMs: 10, resource: 'database' }),
        sandbox('billing', { latencyMs: 50, failPermanentTimes: 1, resource: 'stripe customer' }, { needs: ['database'] }),
      ),
    );
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(app, job.jobId, ['failed']);

    const results = await Promise.allSettled([
      app.service.retry(job.tenant.slug, person('jane.ae')),
      app.service.retry(job.tenant.slug, person('sam.ops')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(ActionRefusedError);

    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(await runsOf(app, job.jobId, 'billing')).toBe(2);
    expect(Object.values((await app.ledger.inventory()).creations)).toEqual(['1', '1']);
    const { lines } = await auditOf(app, job);
    expect(lines.filter((l) => l.includes('retried step billing'))).toHaveLength(1);
  });
});
