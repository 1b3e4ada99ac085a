import { afterEach, describe, expect, it } from 'vitest';
import { ActionRefusedError } from '../../src/domain/errors.ts';
import { auditOf, dealFor, startTestApp, stepStates, stopTestApp, waitForStatus, waitForStep, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 600, resource: 'database' }),
  sandbox('dns', { latencyMs: 10, resource: 'dns' }),
  sandbox('billing', { latencyMs: 10, resource: 'billing' }, { needs: ['database', 'dns'] }),
);

describe('an AE cancels a job that should not have been started', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  it('the running step finishes, nothing new starts, the slug is free again and the audit says who and why', async () => {
    app = await startTestApp({ pipeline: PIPELINE });
    const deal = dealFor();
    const { job } = await app.service.provision(deal, REQUESTER);
    await waitForStep(app, job.jobId, 'database', ['running']);

    const cancelled = await app.service.cancel(job.tenant.slug, person('jane.ae'), 'duplicate of an existing tenant');
    expect(cancelled.status).toBe('cancelled');
    await waitForStep(app, job.jobId, 'database', ['succeeded']);
    // billing's needs are now met, but a cancelled job starts nothing new.
    await new Promise((r) => setTimeout(r, 300));
    const after = await waitForStatus(app, job.jobId, ['cancelled']);
    expect(stepStates(after)).toEqual({ database: 'succeeded', dns: 'succeeded', billing: 'pending' });

    await expect(app.service.cancel(job.tenant.slug, person('jane.ae'), 'again')).rejects.toThrow(ActionRefusedError);
    const { lines } = await auditOf(app, job);
    expect(lines.some((l) => l.includes('jane.ae cancelled the job from the CLI: "duplicate of an existing tenant"'))).toBe(true);

    // The slug can be used by a new deal, and the cancelled job's resources can still be rolled back.
    const again = await app.service.provision(dealFor({ slug: deal['slug'] }), REQUESTER);
    expect(again.outcome).toBe('created');
    await app.service.rollback(job.jobId, person('jane.ae'), 'clean up the cancelled attempt');
    const rolledBack = await waitForStatus(app, job.jobId, ['rolled_back', 'rollback_failed']);
    expect(rolledBack.status).toBe('rolled_back');
  });
});
