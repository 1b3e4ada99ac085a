/**
 * A Redis restart is one outage in the log: every Redis connection of the
 * process (the engine's, BullMQ's, the Slack notifier's) has an error
 * listener, so ioredis never prints "[ioredis] Unhandled error event" on the
 * console, and the notifier's connection says it lost Redis once, through
 * the structured log, however many reconnect attempts fail meanwhile.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { dealFor, waitForStatus } from '../support/harness.ts';
import { captureLog } from '../support/log-capture.ts';
import { OwnRedis } from '../support/own-redis.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { CHANNEL, startSlackApp, stopSlackApp, type SlackTestApp } from '../support/slack-app.ts';
import { until } from '../support/slack-story.ts';

const PIPELINE = pipelineOf(sandbox('database', { latencyMs: 200, resource: 'database' }));

describe('Redis restarts under the Slack bot and its workers', () => {
  let redis: OwnRedis | undefined;
  let slack: SlackTestApp | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await stopSlackApp(slack);
    await redis?.stop();
    slack = undefined;
    redis = undefined;
  });

  it('nothing reaches the console unhandled, and the notifier logs the outage once', async () => {
    const own = await OwnRedis.start();
    redis = own;
    const console = vi.spyOn(globalThis.console, 'error');
    const log = captureLog();
    const logger = createLogger({ level: 'warn', format: 'json', destination: log.stream });
    slack = await startSlackApp({ pipeline: PIPELINE, env: { REDIS_URL: own.url }, logger, onError: () => undefined });
    const { app, fake } = slack;
    const { job: before } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(app, before.jobId, ['live']);

    // Down long enough for many failed reconnect attempts on every connection.
    await own.restart(3_000);

    const { job: after } = await app.service.provision(dealFor(), REQUESTER);
    await waitForStatus(app, after.jobId, ['live'], 30_000);
    // The notifier follows again after the outage: the new job's message shows it live.
    await until('the live message of the job after the restart', () =>
      fake
        .messages(CHANNEL)
        .find((m) => m.replies.some((r) => (r.text ?? '').includes(after.tenant.slug) && (r.text ?? '').includes(' is live at '))),
    );

    const unhandled = console.mock.calls.map((args) => args.map(String).join(' ')).filter((line) => line.includes('[ioredis] Unhandled error event'));
    expect(unhandled).toEqual([]);
    const lost = log.lines().filter((l) => String(l['msg']).includes('the Slack notifier lost its Redis connection'));
    expect(lost).toHaveLength(1);
  }, 120_000);
});
