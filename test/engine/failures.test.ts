import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  appPerTest,
  auditOf,
  dealFor,
  liveView,
  stepOf,
  stepStates,
  storedView,
  timesOf,
  waitForStatus,
  waitForStep,
  type TestApp,
} from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

describe('when a step fails', () => {
  const startApp = appPerTest();
  const start = (pipeline: string): Promise<TestApp> => startApp({ pipeline });

  it('retries a temporary failure with backoff, then succeeds, and the audit shows each retry', async () => {
    const app = await start(
      pipelineOf(
        sandbox('database', { latencyMs: 10, resource: 'database' }),
        sandbox(
          'billing',
          { latencyMs: 10, failTransientTimes: 2, resource: 'stripe customer' },
          { needs: ['database'], retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 50, jitter: 0 } } },
        ),
      ),
    );
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', billing: 'succeeded' });
    // Two waits, 50 ms then 100 ms, between the three attempts.
    expect(timesOf(stepOf(live, 'billing')).durationMs).toBeGreaterThanOrEqual(150);
    // Retrying never created a second customer.
    const { creations } = await app.ledger.inventory();
    expect(Object.values(creations)).toEqual(['1', '1']);

    const { lines } = await auditOf(app, job);
    const retries = lines.filter((l) => l.includes('hit a temporary problem'));
    expect(retries).toHaveLength(2);
    expect(retries[0]).toContain(
      'Step billing hit a temporary problem (stripe customer: sandbox service unavailable (attempt 1)); trying again (attempt 2 of 3)',
    );
    expect(retries[1]).toContain(
      'Step billing hit a temporary problem (stripe customer: sandbox service unavailable (attempt 2)); trying again (attempt 3 of 3)',
    );
    // The customer was created after the last retry.
    const created = lines.findIndex((l) => l.includes('stripe customer created'));
    expect(created).toBeGreaterThan(lines.findLastIndex((l) => l.includes('hit a temporary problem')));
    expect(lines.some((l) => l.includes('failed'))).toBe(false);
  });

  it('fails the step once its attempts are used up, saying it gave up', async () => {
    const app = await start(
      pipelineOf(
        sandbox('database', { latencyMs: 10, resource: 'database' }),
        sandbox(
          'billing',
          { failTransientTimes: 5, resource: 'stripe customer' },
          { needs: ['database'], retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } } },
        ),
        sandbox('invoice', { resource: 'invoice' }, { needs: ['billing'] }),
      ),
    );
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const failed = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(failed.status).toBe('failed');
    expect(stepStates(failed)).toEqual({ database: 'succeeded', billing: 'failed', invoice: 'pending' });
    expect(stepOf(failed, 'billing').error).toBe('stripe customer: sandbox service unavailable (attempt 3)');

    const { lines, text } = await auditOf(app, job);
    expect(lines.filter((l) => l.includes('trying again'))).toHaveLength(2);
    expect(text).toContain('Step billing failed: stripe customer: sandbox service unavailable (attempt 3) (gave up after 3 attempts)');
    const { resources } = await app.ledger.inventory();
    expect(Object.keys(resources)).toEqual([`${job.jobId}.database`]);
  });

  it('fails the job at once on a permanent failure; started branches finish, the rest stays pending and visible', async () => {
    const app = await start(
      pipelineOf(
        sandbox('database', { latencyMs: 10, resource: 'database' }),
        sandbox(
          'billing',
          { failPermanently: true, resource: 'stripe customer' },
          { needs: ['database'], retry: { attempts: 5, backoff: { type: 'fixed', delayMs: 10 } } },
        ),
        sandbox('invoice', { resource: 'invoice' }, { needs: ['billing'] }),
        sandbox('dns', { latencyMs: 500, resource: 'dns record' }),
        sandbox('dns_check', { resource: 'dns check' }, { needs: ['dns'] }),
        sandbox('welcome_email', { resource: 'email' }, { needs: ['invoice', 'dns_check'], criticality: 'notification' }),
      ),
    );
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const failed = await waitForStatus(app, job.jobId, ['failed', 'live']);
    expect(failed.status).toBe('failed');
    // dns was already running when billing failed: it is left to finish.
    expect(stepOf(failed, 'dns').state).toBe('running');
    const settled = await waitForStep(app, job.jobId, 'dns', ['succeeded', 'failed']);
    await sleep(150); // long enough for anything wrongly released to start
    const view = await liveView(app, job.jobId);
    expect(view.status).toBe('failed');
    expect(view.seq).toBe(settled.seq);
    expect(stepStates(view)).toEqual({
      database: 'succeeded',
      billing: 'failed',
      invoice: 'pending',
      dns: 'succeeded',
      dns_check: 'pending',
      welcome_email: 'pending',
    });
    expect(timesOf(stepOf(view, 'dns')).startedAt).toBeLessThan(timesOf(stepOf(view, 'billing')).finishedAt);
    for (const id of ['invoice', 'dns_check', 'welcome_email']) expect(stepOf(view, id).startedAt).toBeUndefined();
    expect(stepOf(view, 'billing').error).toBe('stripe customer: rejected by the sandbox (failPermanently)');

    const { entries, text } = await auditOf(app, job, { verbose: true });
    // One attempt, although five were allowed.
    expect(entries.filter((e) => e.stepId === 'billing' && e.type === 'step.started')).toHaveLength(1);
    expect(entries.some((e) => e.type === 'step.retrying')).toBe(false);
    expect(text).toContain('Step billing failed: stripe customer: rejected by the sandbox (failPermanently)');
    expect(text).not.toContain('gave up');
    const stored = await storedView(app, job.jobId);
    expect(stored.status).toBe('failed');
    expect(stepStates(stored)).toEqual(stepStates(view));
  });

  it('fails a step that hangs past its timeout with "timed out"', async () => {
    const app = await start(
      pipelineOf(
        sandbox('dns', { hangMs: 5000, resource: 'dns record' }, { timeoutMs: 100, retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } } }),
        sandbox('billing', { resource: 'subscription' }, { needs: ['dns'] }),
      ),
    );
    const started = Date.now();
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const failed = await waitForStatus(app, job.jobId, ['failed', 'live']);
    expect(failed.status).toBe('failed');
    expect(Date.now() - started).toBeLessThan(4000); // two attempts of a 5 s hang, each cut short
    expect(stepStates(failed)).toEqual({ dns: 'failed', billing: 'pending' });
    expect(stepOf(failed, 'dns').error).toBe('dns (run) timed out after 100 ms');

    const { text } = await auditOf(app, job);
    expect(text).toContain('Step dns hit a temporary problem (dns (run) timed out after 100 ms); trying again (attempt 2 of 2)');
    expect(text).toContain('Step dns failed: dns (run) timed out after 100 ms (gave up after 2 attempts)');
    // The hung call was abandoned before it created anything.
    expect((await app.ledger.inventory()).resources).toEqual({});
  });

  it('records a failed notification step but the tenant still goes live', async () => {
    const app = await start(
      pipelineOf(
        sandbox('database', { latencyMs: 10, resource: 'database' }),
        sandbox('billing', { latencyMs: 10, resource: 'subscription' }, { needs: ['database'] }),
        sandbox(
          'welcome_email',
          { latencyMs: 10, failPermanently: true, resource: 'it-admin@acme.example' },
          { needs: ['billing'], criticality: 'notification', retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } } },
        ),
        // Fails last, well after every blocking step is done: the failure itself is what completes the job.
        sandbox(
          'slack_notice',
          { failTransientTimes: 2, resource: 'onboarding channel' },
          { needs: ['billing'], criticality: 'notification', retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 200, jitter: 0 } } },
        ),
      ),
    );
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const live = await waitForStatus(app, job.jobId, ['live', 'failed']);
    expect(live.status).toBe('live');
    expect(stepStates(live)).toEqual({ database: 'succeeded', billing: 'succeeded', welcome_email: 'failed', slack_notice: 'failed' });

    const { text, job: stored } = await auditOf(app, job);
    expect(stored.status).toBe('live');
    expect(text).toContain('Step welcome email failed: it-admin@acme.example: rejected by the sandbox (failPermanently)');
    expect(text).toContain('Step slack notice failed: onboarding channel: sandbox service unavailable (attempt 2) (gave up after 2 attempts)');
    expect(text).toContain(`Tenant ${job.tenant.slug} is live at https://${job.tenant.slug}.tenants.example.com`);
    expect(await app.service.list(['live'])).toEqual([expect.objectContaining({ jobId: job.jobId, status: 'live' })]);
  });
});
