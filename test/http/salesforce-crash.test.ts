/**
 * `provisioner serve` is killed (SIGKILL) while it works through a message of
 * sixty Closed Won opportunities: Salesforce got no ack, so it delivers the
 * message again, to a server that is up. The redelivery completes the rest,
 * and every opportunity is exactly one job with its live state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { appPerTest } from '../support/harness.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { ACK, postEnvelope, salesforceEnv, withNotifications } from '../support/salesforce.ts';
import { workerEnvFor } from '../support/start-worker.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEALS = 60;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

/** `provisioner serve` for the app's prefix and database; resolves once it listens. */
async function serve(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [resolve(ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Control room:')) done();
    });
    child.once('exit', (code) => fail(new Error(`provisioner serve exited early (${code}): ${out}`)));
  });
  return child;
}

describe('a server killed in the middle of an outbound message', () => {
  const startApp = appPerTest();
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    child = undefined;
  });

  it('loses nothing and duplicates nothing: the redelivery completes the rest, one job per opportunity', async () => {
    const app = await startApp({ pipeline: pipelineOf(sandbox('database')), serveWeb: true, env: salesforceEnv() });
    if (!app.web) throw new Error('the HTTP server was not composed');
    const port = await freePort();
    child = await serve({ ...workerEnvFor(app), HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1' });
    const message = withNotifications(DEALS);

    // The first delivery: killed once a few jobs exist, long before all sixty.
    const delivery = postEnvelope(`http://127.0.0.1:${port}`, message).then(
      (answer) => answer.status,
      () => 'no answer' as const,
    );
    let made = 0;
    for (let i = 0; i < 2000 && made < 3; i++) {
      made = (await app.store.jobSummaries()).length;
      if (made < 3) await sleep(5);
    }
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    expect(await delivery).toBe('no answer');
    const before = (await app.store.jobSummaries()).length;
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThan(DEALS);

    // Salesforce delivers it again, to the server that is up.
    const again = await postEnvelope(await app.web.listen(0), message);
    expect(again.body).toBe(ACK);
    const jobs = await app.store.jobSummaries();
    const opportunities = jobs.map((j) => j.crmOpportunityId);
    expect(new Set(opportunities).size).toBe(DEALS);
    expect(opportunities).toHaveLength(DEALS);
    // Each stored job has its live state too, even one whose process died between the two.
    for (const job of jobs) expect(await app.engine.view(job.jobId), job.jobId).not.toBeNull();
  });
});
