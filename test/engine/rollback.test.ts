import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/audit.ts';
import type { JobView } from '../../src/domain/job-view.ts';
import { auditOf, dealFor, startTestApp, stepStates, stopTestApp, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

/** database → secrets → sso and database → feature_flags → billing, dns on its own, go_live joining them all. */
const pipeline = (secretsRollbackFailures: number) =>
  pipelineOf(
    sandbox('database', { latencyMs: 30, resource: 'database' }),
    sandbox('secrets', { latencyMs: 30, resource: 'secrets', failRollbackTimes: secretsRollbackFailures }, { needs: ['database'] }),
    sandbox('sso', { latencyMs: 30, resource: 'sso app' }, { needs: ['secrets'] }),
    sandbox('feature_flags', { latencyMs: 30, resource: 'flags' }, { needs: ['database'] }),
    sandbox('billing', { latencyMs: 30, resource: 'subscription' }, { needs: ['feature_flags'] }),
    sandbox('dns', { latencyMs: 30, resource: 'dns record' }),
    sandbox('go_live', { latencyMs: 10, resource: 'go-live switch' }, { needs: ['sso', 'billing', 'dns'] }),
  );

/** When each step's undo started and finished, from the audit trail. */
function undoTimes(entries: readonly AuditEntry[]) {
  const started = new Map<string, number>();
  const done = new Map<string, number>();
  for (const e of entries) {
    if (!e.stepId) continue;
    if (e.type === 'step.started' && e.summary.startsWith('Undoing')) started.set(e.stepId, e.at.getTime());
    if (e.type === 'step.compensated') done.set(e.stepId, e.at.getTime());
  }
  return { started, done };
}

/** A step's time in one of undoTimes' maps; fails if the audit has none for it. */
function timeOf(times: ReadonlyMap<string, number>, id: string, what: string): number {
  const at = times.get(id);
  if (at === undefined) throw new Error(`the audit has no ${what} for ${id}`);
  return at;
}

/** Every step was undone only after every step that depends on it was undone. */
function expectReverseOrder(view: JobView, entries: readonly AuditEntry[], steps: readonly string[]) {
  const { started, done } = undoTimes(entries);
  for (const id of steps) {
    expect(started.get(id), `undo of ${id} started`).toBeDefined();
    for (const dependent of view.steps.filter((s) => s.needs.includes(id))) {
      if (!steps.includes(dependent.id)) continue;
      const dependentUndone = timeOf(done, dependent.id, 'finished undo');
      expect(timeOf(started, id, 'undo start'), `${id} undone after ${dependent.id}`).toBeGreaterThanOrEqual(dependentUndone);
    }
  }
}

const ALL = ['database', 'secrets', 'sso', 'feature_flags', 'billing', 'dns', 'go_live'];

describe('rolling a tenant back', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  it('undoes every step in reverse dependency order and leaves nothing behind', async () => {
    app = await startTestApp({ pipeline: pipeline(0) });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    expect((await waitForStatus(app, job.jobId, ['live', 'failed'])).status).toBe('live');
    expect(Object.keys((await app.ledger.inventory()).resources)).toHaveLength(7);

    const started = await app.service.rollback(job.tenant.slug, person('jane.ae'), 'customer cancelled the contract');
    expect(['rolling_back', 'rolled_back']).toContain(started.status);
    const done = await waitForStatus(app, job.jobId, ['rolled_back', 'rollback_failed']);
    expect(done.status).toBe('rolled_back');
    expect(new Set(Object.values(stepStates(done)))).toEqual(new Set(['compensated']));
    expect((await app.ledger.inventory()).resources).toEqual({});

    const { entries, text, job: stored } = await auditOf(app, job, { verbose: true });
    expect(stored.status).toBe('rolled_back');
    expectReverseOrder(done, entries, ALL);
    const undone = (id: string) => timeOf(undoTimes(entries).done, id, 'finished undo');
    expect(undone('go_live')).toBeLessThanOrEqual(Math.min(...['sso', 'billing', 'dns'].map(undone)));
    // database waits for everything built on it (dns is independent of it, so it may finish either side).
    expect(undone('database')).toBeGreaterThanOrEqual(Math.max(...['secrets', 'sso', 'feature_flags', 'billing', 'go_live'].map(undone)));
    expect(text).toContain('jane.ae started a rollback from the CLI: "customer cancelled the contract".');
    expect(text).toContain('Undone: subscription created');

    // A rolled-back tenant no longer holds its slug.
    const again = await app.service.provision(dealFor({ slug: job.tenant.slug }), REQUESTER);
    expect(again.outcome).toBe('created');
  });

  it('stops at a failing undo without undoing what it depends on, and a retried rollback finishes the job', async () => {
    app = await startTestApp({ pipeline: pipeline(1) });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    expect((await waitForStatus(app, job.jobId, ['live', 'failed'])).status).toBe('live');

    await app.service.rollback(job.tenant.slug, person('jane.ae'), 'customer cancelled the contract');
    const stuck = await waitForStatus(app, job.jobId, ['rollback_failed', 'rolled_back']);
    expect(stuck.status).toBe('rollback_failed');
    expect(stepStates(stuck)).toEqual({
      go_live: 'compensated',
      sso: 'compensated',
      secrets: 'compensation_failed',
      // Still there: it waits for secrets to be undone first.
      database: 'compensating',
      billing: 'compensated',
      feature_flags: 'compensated',
      dns: 'compensated',
    });
    expect(Object.keys((await app.ledger.inventory()).resources).sort()).toEqual([`${job.jobId}.database`, `${job.jobId}.secrets`]);
    const first = await auditOf(app, job);
    expect(first.job.status).toBe('rollback_failed');
    expect(first.text).toContain('Could not undo secrets: secrets: sandbox refused the delete (try 1)');
    expect(first.text).toContain(
      `Rollback of ${job.tenant.slug} stopped: secrets could not be undone (5 undone); fix the cause and retry the rollback.`,
    );

    const retried = await app.service.rollback(job.tenant.slug, person('sam.ops'), 'secrets store is back');
    expect(['rolling_back', 'rolled_back']).toContain(retried.status);
    const done = await waitForStatus(app, job.jobId, ['rolled_back', 'rollback_failed']);
    expect(done.status).toBe('rolled_back');
    expect((await app.ledger.inventory()).resources).toEqual({});

    const { entries, text } = await auditOf(app, job, { verbose: true });
    expect(text).toContain('sam.ops retried the rollback from the CLI: "secrets store is back".');
    expect(text).toContain(`Rollback of ${job.tenant.slug} finished: 7 steps undone.`);
    expectReverseOrder(done, entries, ALL);
    expect(entries.filter((e) => e.type === 'step.compensated' && e.stepId === 'database')).toHaveLength(1);
    // Nothing left to retry.
    await expect(app.service.rollback(job.tenant.slug, person('sam.ops'), 'once more')).rejects.toThrow('no failed compensation to retry');
  });
});
