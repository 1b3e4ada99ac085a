/**
 * Helpers for driving the real pipeline into its vendors' failures: a copy of
 * manifests/pipeline.yaml with short waits (so retries take milliseconds, not
 * the production backoff), and a gate in front of the Route 53 proxy that
 * aims an injected AWS error at one service only.
 */
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { App } from '../../src/compose.ts';
import type { JobView } from '../../src/domain/job-view.ts';
import type { StepState } from '../../src/domain/job.ts';
import { stepStates, waitForStatus } from './harness.ts';
import { startRoute53PendingProxy, type Route53PendingProxy } from './route53-pending-proxy.ts';
import { serverUrl } from './servers.ts';

const PIPELINE = resolve(import.meta.dirname, '../../manifests/pipeline.yaml');

const StepIds = z.object({ steps: z.array(z.object({ id: z.string() })) });

/** One config value to replace in one step, e.g. billing's priceRef. */
export type PipelineEdit = { stepId: string; path: readonly string[]; value: unknown };

/**
 * The repo's pipeline with every retry wait cut to 50 ms (no jitter) and DNS
 * polled every 100 ms, so a retried step finishes within a test. Attempts,
 * needs, criticality and every other value stay as shipped.
 */
export function quickPipeline(edits: readonly PipelineEdit[] = []): string {
  const doc = parseDocument(readFileSync(PIPELINE, 'utf8'));
  const ids = StepIds.parse(doc.toJS()).steps.map((step) => step.id);
  ids.forEach((id, index) => {
    doc.setIn(['steps', index, 'retry', 'backoff', 'delayMs'], 50);
    doc.setIn(['steps', index, 'retry', 'backoff', 'jitter'], 0);
    if (id === 'dns') doc.setIn(['steps', index, 'config', 'pollEveryMs'], 100);
  });
  for (const edit of edits) {
    const index = ids.indexOf(edit.stepId);
    if (index < 0) throw new Error(`the pipeline has no step ${edit.stepId}`);
    doc.setIn(['steps', index, ...edit.path], edit.value);
  }
  return doc.toString();
}

export type AwsService = 'route53' | 'secretsmanager';

export type AwsFaultGate = {
  /** Point the app's AWS_ENDPOINT_URL here. */
  url: string;
  /** The Route 53 proxy behind the gate (PENDING changes, GetChange counts). */
  proxy: Route53PendingProxy;
  /** The next `count` calls to `service` answer `status` in that service's error shape (400 → throttling). */
  failNext(service: AwsService, count: number, status?: number): void;
  close(): Promise<void>;
};

function serviceOf(req: IncomingMessage): AwsService | undefined {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('secretsmanager.')) return 'secretsmanager';
  if ((req.url ?? '').startsWith('/2013-04-01/')) return 'route53';
  return undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => done(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

function forward(to: URL, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  return new Promise((done) => {
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', done);
        answer.on('error', done);
      },
    );
    upstream.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`gate could not reach the proxy: ${String(err)}`);
      done();
    });
    upstream.end(body);
  });
}

/**
 * The Route 53 proxy fails whichever request comes next, and the DNS and
 * secrets steps call AWS at the same time. The gate passes requests on one at
 * a time and arms the proxy just before the one aimed at, so the error lands
 * on the intended service.
 */
export async function startAwsFaultGate(target: string): Promise<AwsFaultGate> {
  const proxy = await startRoute53PendingProxy({ target, pendingPolls: 0 });
  const proxyUrl = new URL(proxy.url);
  const armed: Record<AwsService, { left: number; status: number }> = {
    route53: { left: 0, status: 400 },
    secretsmanager: { left: 0, status: 400 },
  };
  let line: Promise<void> = Promise.resolve();

  async function pass(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const service = serviceOf(req);
    const fault = service === undefined ? undefined : armed[service];
    if (fault !== undefined && fault.left > 0) {
      fault.left -= 1;
      proxy.failNext(1, fault.status);
    }
    await forward(proxyUrl, req, body, res);
  }

  const server = createServer((req, res) => {
    const body = readBody(req);
    line = line.then(async () => pass(req, res, await body)).catch(() => undefined);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the AWS gate has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    proxy,
    failNext(service, count, status = 400) {
      armed[service] = { left: count, status };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await proxy.close();
    },
  };
}

/** Starts one gate per test (AWS_ENDPOINT_URL must name moto) and closes it after the test's app has stopped. */
export function gatePerTest(): () => Promise<AwsFaultGate> {
  let gate: AwsFaultGate | undefined;
  afterEach(async () => {
    await gate?.close();
    gate = undefined;
  });
  return async () => {
    const moto = serverUrl('AWS_ENDPOINT_URL');
    gate = await startAwsFaultGate(moto);
    return gate;
  };
}

const BUSY: ReadonlySet<StepState> = new Set(['ready', 'running', 'compensating']);

/**
 * Waits until the job has come to rest: live or failed, and no step still at
 * work (a failed blocking step says "failed" while parallel steps finish).
 */
export async function settledJob(app: App, jobId: string, timeoutMs = 30_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await waitForStatus(app, jobId, ['live', 'failed'], Math.max(deadline - Date.now(), 1));
    if (!view.steps.some((step) => BUSY.has(step.state))) return view;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is ${view.status} but still busy: ${JSON.stringify(stepStates(view))}`);
    await sleep(25);
  }
}
