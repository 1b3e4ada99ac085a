/**
 * An SRE reads the worker's log after a step failed. The line says which job
 * and which step, in fields a log pipeline can filter on, and whatever
 * secret the failure carried is not in it, nor anywhere else in the log.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { appPerTest, dealFor, waitForStatus } from '../support/harness.ts';
import { captureLog } from '../support/log-capture.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const STRIPE_KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';

/** The billing step fails for good, and its error message holds a live Stripe key (as a careless SDK error might). */
const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 5 }),
  sandbox('billing', { failPermanently: true, resource: `Stripe key ${STRIPE_KEY}` }, { needs: ['database'] }),
);

describe('structured logs of a job', () => {
  const startApp = appPerTest();

  it('a failed step is logged with its jobId and stepId, and without the secret its error held', async () => {
    const log = captureLog();
    const logger = createLogger({ level: 'debug', format: 'json', destination: log.stream });
    const app = await startApp({ pipeline: PIPELINE, logger });
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(app, job.jobId, ['failed']);

    const failed = log.lines().find((l) => l['jobId'] === job.jobId && l['stepId'] === 'billing' && l['outcome'] === 'failed');
    expect(failed).toMatchObject({ level: 40, stepType: 'sandbox', phase: 'run', attempt: 1, msg: expect.stringContaining('Step billing failed') });
    // The error and its stack are there for whoever debugs, with the key cut out.
    expect(failed?.['err']).toMatchObject({ type: 'PermanentError', message: expect.stringContaining('[redacted]') });
    expect(String(Reflect.get(Object(failed?.['err']), 'stack'))).toContain('PermanentError: Stripe key [redacted]');
    // The step that succeeded is there too, at debug, with its job.
    expect(log.lines().find((l) => l['stepId'] === 'database' && l['outcome'] === 'succeeded')).toMatchObject({ jobId: job.jobId, level: 20 });
    expect(log.text()).not.toContain(STRIPE_KEY);
  });
});
