import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dealFor, startTestApp, stepOf, stepStates, stopTestApp, timesOf, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 20, resource: '${tenant.databaseName}', summary: 'Database ${tenant.databaseName} created' }),
  sandbox('dns', { latencyMs: 20, pollTimes: 2, pollIntervalMs: 20, resource: '${tenant.dnsName}', summary: 'DNS record ${tenant.dnsName} created' }),
  sandbox('seed_data', { latencyMs: 10 }, { needs: ['database'] }),
  sandbox('billing', { latencyMs: 10 }, { needs: ['database', 'dns'] }),
  sandbox('welcome_email', {}, { needs: ['billing', 'seed_data'], criticality: 'notification' }),
);

describe('an AE provisions a tenant on the starter plan', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ pipeline: PIPELINE });
  });
  afterEach(async () => {
    await stopTestApp(app);
  });

  it('runs every step once, in dependency order, and the tenant goes live with a readable audit trail', async () => {
    const deal = dealFor();
    const { outcome, job } = await app.service.provision(deal, REQUESTER);
    expect(outcome).toBe('created');

    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({
      database: 'succeeded',
      dns: 'succeeded',
      seed_data: 'succeeded',
      billing: 'succeeded',
      welcome_email: 'succeeded',
    });

    const at = (id: string) => timesOf(stepOf(live, id));
    // Dependents start only after their needs finished.
    expect(at('billing').startedAt).toBeGreaterThanOrEqual(at('dns').finishedAt);
    expect(at('billing').startedAt).toBeGreaterThanOrEqual(at('database').finishedAt);
    expect(at('seed_data').startedAt).toBeGreaterThanOrEqual(at('database').finishedAt);

    const { creations } = await app.ledger.inventory();
    expect(Object.values(creations)).toEqual(['1', '1', '1', '1', '1']);

    const stored = await waitForRecord(app, job.jobId);
    expect(stored.status).toBe('live');
    const audit = await app.service.audit(deal['slug'] as string);
    const text = audit.lines.join('\n');
    expect(text).toContain(`jane.ae requested a starter tenant for Acme Corp (slug ${deal['slug']})`);
    expect(text).toMatch(new RegExp(`\\d\\d:\\d\\d DNS record ${deal['slug']}\\.tenants\\.example\\.com created \\(\\d+ ms\\)`));
    expect(text).toContain(`Tenant ${deal['slug']} is live at https://${deal['slug']}.tenants.example.com`);
  });
});
