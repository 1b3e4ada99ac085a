/**
 * Every provisioner process can be scraped: `provisioner worker` serves
 * /metrics and /healthz on METRICS_PORT, `provisioner serve` on its one HTTP
 * server (HTTP_PORT), next to the Slack bot. And a worker's parts can run in
 * processes of their own (`provisioner worker --roles …`). Real CLI processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/domain/events.ts';
import type { App } from '../../src/compose.ts';
import { appPerTest, dealFor, storedView, waitForRecord, waitForStatus } from '../support/harness.ts';
import { sample, scrape } from '../support/prometheus.ts';
import { SlackFake } from '../support/slack-fake.ts';
import { workerEnvFor } from '../support/start-worker.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 10 }), sandbox('billing', { latencyMs: 10 }, { needs: ['database'] }));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

/** Runs `provisioner <command>`; resolves with the process once its stdout matches `ready`. */
async function provisioner(
  command: string | string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [resolve(ROOT, 'src/cli/main.ts'), ...[command].flat()], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const match = await new Promise<RegExpMatchArray>((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = out.match(ready);
      if (found) done(found);
    });
    child.once('exit', (code) => fail(new Error(`provisioner ${command} exited early (${code}): ${out}`)));
  });
  return { child, match };
}

/** SIGTERM, as an orchestrator stops a process; it must stop cleanly. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  expect(code, 'a clean stop on SIGTERM').toBe(0);
}

describe('metrics in every process', () => {
  const startApp = appPerTest();
  const running: ChildProcess[] = [];
  // Registered after appPerTest's, so it runs first: the processes stop before their app's data is dropped.
  afterEach(async () => {
    for (const child of running.splice(0)) await stop(child);
  });

  it('`provisioner worker` serves /healthz and /metrics on METRICS_PORT, with the steps it ran', async () => {
    const app = await startApp({ pipeline: PIPELINE, runWorkers: false });
    const port = await freePort();
    const worker = await provisioner('worker', { ...workerEnvFor(app), METRICS_PORT: String(port) }, /metrics on port (\d+)/);
    running.push(worker.child);
    expect(worker.match[1]).toBe(String(port));
    const url = `http://127.0.0.1:${port}`;

    const { job } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, redis: 'up', store: 'up' });
    const { samples } = await scrape(url);
    expect(sample(samples, 'provisioner_step_duration_seconds_count', { step_type: 'sandbox', outcome: 'succeeded' })).toBe(2);
  });

  it("`provisioner serve` serves them on HTTP_PORT, with Slack's requests and the control room on the same port", async () => {
    const app = await startApp({ pipeline: PIPELINE, runWorkers: false });
    const fake = await SlackFake.start({ botToken: 'xoxb-test-token' });
    try {
      const port = await freePort();
      const serve = await provisioner(
        'serve',
        {
          ...workerEnvFor(app),
          HTTP_PORT: String(port),
          SLACK_MODE: 'http',
          SLACK_BOT_TOKEN: 'xoxb-test-token',
          SLACK_SIGNING_SECRET: 'test-signing-secret',
          SLACK_API_URL: fake.url,
          SLACK_ONBOARDING_CHANNEL: 'C0ONBOARD',
          SLACK_APPROVERS: 'U0APPROVE',
        },
        /Control room: http:\/\/127\.0\.0\.1:(\d+)\/admin/,
      );
      running.push(serve.child);
      expect(serve.match[1]).toBe(String(port));
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // Slack's requests reach Bolt on the same port, which refuses an unsigned one.
      expect((await fetch(`${url}/slack/events`, { method: 'POST', body: 'command=/provision' })).status).toBe(401);
      const { samples } = await scrape(url);
      // Bolt checked its token at startup, through the metered client.
      expect(sample(samples, 'provisioner_slack_api_calls_total', { method: 'auth.test' })).toBe(fake.callsTo('auth.test').length);
      expect(sample(samples, 'provisioner_jobs', { status: 'live' })).toBe(0);
    } finally {
      for (const child of running.splice(0)) await stop(child);
      await fake.close();
    }
  });
});

/** Each event of the job on the engine's stream, as `type step`, in order. */
async function streamedEvents(app: App, jobId: string): Promise<string[]> {
  const entries = await app.engine.redis.xrange(app.engine.keys.events(), '-', '+');
  return entries.flatMap(([, fields]) => {
    const event = parseEvent(fields[1] ?? '');
    return event?.jobId === jobId ? [`${event.type} ${event.stepId ?? ''}`.trim()] : [];
  });
}

describe('a worker split by role, one process each', () => {
  const startApp = appPerTest();
  const running: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of running.splice(0)) await stop(child);
  });

  it('a steps-only process runs the job and records nothing; a recorder-only process then stores its view and whole audit trail', async () => {
    const app = await startApp({ pipeline: PIPELINE, runWorkers: false });
    const env = { ...workerEnvFor(app), METRICS_PORT: '0' };
    running.push((await provisioner(['worker', '--roles', 'steps'], env, /Worker running \(steps;/)).child);

    const { job } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    // Only the steps' dispatcher reads the events: nobody has recorded them, so the store still has the job as submitted.
    expect((await app.engine.eventStreamGroups()).map((g) => g.group)).toEqual(['dispatcher']);
    expect((await storedView(app, job.jobId)).status).toBe('running');

    running.push((await provisioner(['worker', '--roles', 'recorder'], env, /Worker running \(recorder;/)).child);
    expect((await waitForRecord(app, job.jobId)).status).toBe('live');
    const { entries } = await app.service.audit(job.tenant.slug, { verbose: true });
    const streamed = await streamedEvents(app, job.jobId);
    expect(streamed).toEqual(expect.arrayContaining(['job.created', 'step.succeeded database', 'step.succeeded billing']));
    // Every event on the stream, and the line the recorder adds once the job is live.
    expect(entries.map((e) => `${e.type} ${e.stepId ?? ''}`.trim()).sort()).toEqual([...streamed, 'job.live'].sort());
    expect((await app.engine.eventStreamGroups()).map((g) => g.group).sort()).toEqual(['dispatcher', 'recorder']);
  });

  it('`provisioner serve --roles none` serves the control room and runs nothing; a worker process elsewhere runs the job', async () => {
    const app = await startApp({ pipeline: PIPELINE, runWorkers: false });
    const port = await freePort();
    const env = { ...workerEnvFor(app), HTTP_PORT: String(port), SLACK_MODE: 'off', METRICS_PORT: '0' };
    const serve = await provisioner(['serve', '--roles', 'none'], env, /Worker roles: (.+)\./);
    running.push(serve.child);
    expect(serve.match[1]).toContain('none');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const { job } = await app.service.provision(dealFor(), REQUESTER);
    // Given time to, a process with every role would have run both 10 ms steps and read the events by now.
    await new Promise((done) => setTimeout(done, 1_000));
    expect((await app.service.status(job.jobId)).steps.map((s) => s.state)).toEqual(['ready', 'pending']);
    expect(await app.engine.eventStreamGroups()).toEqual([]);

    running.push((await provisioner(['worker'], env, /Worker running \(steps, recorder, notifier;/)).child);
    expect((await waitForRecord(app, job.jobId)).status).toBe('live');
  });

  it('refuses an unknown role, naming it, before anything starts', async () => {
    const child = spawn(process.execPath, [resolve(ROOT, 'src/cli/main.ts'), 'worker', '--roles', 'steps,recorderr'], {
      cwd: ROOT,
      env: { ...process.env, METRICS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let said = '';
    child.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(said).toContain('unknown role "recorderr" (roles: steps, recorder, notifier)');
    expect(said).not.toMatch(/\n\s+at /);
  });
});
