/**
 * Issue 14: a worker process loads a vendor SDK only when it runs a step that
 * talks to that vendor. Each SDK costs memory at import (the AWS clients,
 * Stripe and nodemailer ~17 MB of a worker's RSS, Okta's ~65 MB), so a worker
 * whose pipelines run none of those steps must never load them: not at start,
 * not while running a job, not when it stops.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dealFor, waitForStatus } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { appWithWorkersPerTest, stopWorker } from '../support/start-worker.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 20, resource: 'database' }),
  sandbox('billing', { latencyMs: 20, resource: 'subscription' }, { needs: ['database'] }),
);

const VENDOR_SDKS = [
  '@aws-sdk/client-route-53',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-acm',
  '@aws-sdk/client-secrets-manager',
  'stripe',
  'nodemailer',
  '@okta/okta-sdk-nodejs',
];

const RECORDER = pathToFileURL(resolve(import.meta.dirname, '../support/module-recorder.ts')).href;

/** The packages among `names` that one of these module URLs belongs to. */
function packagesAmong(urls: readonly string[], names: readonly string[]): string[] {
  return names.filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`)));
}

describe('a worker whose pipeline runs only sandbox steps', () => {
  const w = appWithWorkersPerTest();

  it('starts, provisions a tenant and stops without loading any vendor SDK', async () => {
    const app = await w.startApp(PIPELINE);
    const record = join(mkdtempSync(join(tmpdir(), 'loaded-modules-')), 'urls.txt');
    const worker = await w.startWorker(app, { nodeArgs: ['--import', RECORDER], env: { RECORD_MODULES_TO: record } });

    const { job } = await app.service.provision(dealFor(), REQUESTER);
    expect((await waitForStatus(app, job.jobId, ['live', 'failed'], 20_000)).status).toBe('live');
    await stopWorker(worker, 'SIGTERM');
    expect(worker.exitCode).toBe(0);

    const loaded = readFileSync(record, 'utf8').split('\n');
    // The recorder saw the worker's own libraries, so an empty answer below means something.
    expect(packagesAmong(loaded, ['bullmq', 'ioredis', 'mongodb'])).toEqual(['bullmq', 'ioredis', 'mongodb']);
    expect(packagesAmong(loaded, VENDOR_SDKS)).toEqual([]);
  });
});
