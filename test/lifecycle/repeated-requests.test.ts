/**
 * The same lifecycle request, repeated while its job is finishing, is still
 * one job. A person asks to suspend a tenant, an approver agrees, and while
 * the suspension runs its last step the same person asks again and again, ten
 * times at once: each repeat joins the job under way or, once it is done, is
 * told the tenant is already suspended. Before, a repeat that read the tenant
 * as live just before the job marked it suspended, and claimed the tenant just
 * after the job let go of it, made a second suspension.
 */
import { describe, expect, it } from 'vitest';
import { TenantTransitionRefusedError } from '../../src/domain/errors.ts';
import { kindOf } from '../../src/domain/job-kind.ts';
import { appPerTest, dealFor, waitForRecord, waitForStatus } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 5, resource: '${tenant.databaseName}' }));
const DANA = person('dana.approver', 'approver');
const SAM = person('sam.approver', 'approver');

describe('a lifecycle request repeated around its job’s finish', () => {
  const start = appPerTest();

  it('is one job: every repeat joins it or is told the tenant is already suspended', async () => {
    const app = await start({ pipeline: PIPELINE });
    const { job: provisioning } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(app, provisioning.jobId, ['live']);
    await waitForRecord(app, provisioning.jobId);
    const slug = provisioning.tenant.slug;
    const ask = { reason: 'customer asked for a pause' };
    const first = await app.service.lifecycle.suspend(slug, DANA, ask);
    await waitForStatus(app, first.job.jobId, ['awaiting_approval']);

    const again = () =>
      app.service.lifecycle.suspend(slug, DANA, ask).then(
        ({ job }) => (job.jobId === first.job.jobId ? 'joined the first suspension' : `started another suspension, ${job.jobId}`),
        (err: unknown) => (err instanceof TenantTransitionRefusedError ? `refused: ${err.message}` : `failed: ${String(err)}`),
      );
    await app.service.approve(slug, SAM);
    // Ten at a time, again and again, from before the job finishes until a moment after.
    const answers: string[] = [];
    let doneAt: number | undefined;
    while (doneAt === undefined || Date.now() - doneAt < 500) {
      answers.push(...(await Promise.all(Array.from({ length: 10 }, again))));
      if (doneAt === undefined && (await app.service.status(first.job.jobId)).status === 'live') doneAt = Date.now();
    }

    const suspensions = (await app.store.findJobs({ search: slug, limit: 100 })).filter((j) => kindOf(j.definition) === 'suspend');
    expect(suspensions.map((j) => j.definition.jobId)).toEqual([first.job.jobId]);
    // Repeats before the finish join the job; after it they are refused. (When the job finishes before the first
    // ten arrive, every repeat is refused: how many of each depends on timing, what each may say does not.)
    const allowed = new Set(['joined the first suspension', `refused: ${slug} is already suspended`]);
    expect(answers.filter((answer) => !allowed.has(answer))).toEqual([]);
    expect(answers).toContain(`refused: ${slug} is already suspended`);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('suspended');
  });
});
