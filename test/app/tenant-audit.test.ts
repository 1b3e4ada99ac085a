import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import { appPerTest, dealFor } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const ONE_STEP = pipelineOf(sandbox('database', { resource: 'database' }));

describe('the audit trail of a tenant with a long history', () => {
  const start = appPerTest();

  it('answers with its newest entries, of every job of the tenant, oldest first', async () => {
    const app = await start({ pipeline: ONE_STEP, runWorkers: false });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const { slug, companyName } = job.tenant;
    // A later job of the same tenant (a suspension, say) adds to the same trail.
    const later = `${job.jobId}-suspend`;
    const base = Date.parse('2030-01-01T09:00:00Z');
    const entry = (jobId: string, minute: number): AuditEntry => ({
      id: `${jobId}:${minute}`,
      jobId,
      tenantSlug: slug,
      companyName,
      at: new Date(base + minute * 60_000),
      type: 'step.succeeded',
      actor: 'engine',
      summary: `Step ${minute} done`,
    });
    await app.store.appendAudit([...Array.from({ length: 30 }, (_, m) => entry(job.jobId, m)), entry(later, 30), entry(later, 31)]);

    const { entries } = await app.service.audit(slug, { limit: 3 });

    expect(entries.map((e) => e.summary)).toEqual(['Step 29 done', 'Step 30 done', 'Step 31 done']);
    expect(entries.map((e) => e.jobId)).toEqual([job.jobId, later, later]);
  });
});
