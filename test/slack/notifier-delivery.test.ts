/**
 * The notifier's promise about thread replies, told against the Slack fake
 * with the real WebClient and real Redis: a reply Slack fails for a while
 * still goes out once; one it never takes is given up on after a bounded
 * number of tries, loudly, without holding back the replies after it; one
 * it refuses for good is not retried; and events read twice (a redelivered
 * batch, or two processes on the same batch) never post a reply twice.
 */
import { randomBytes } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, SlackDeliveryError, type RetryPolicy } from '../../src/adapters/slack/delivery.ts';
import { RateLimiter } from '../../src/adapters/slack/limiter.ts';
import { MessageRefs } from '../../src/adapters/slack/message-refs.ts';
import { SlackNotifier } from '../../src/adapters/slack/notifier.ts';
import type { JobEvent } from '../../src/domain/events.ts';
import { serverUrl } from '../support/servers.ts';
import { SlackFake } from '../support/slack-fake.ts';
import { job, step } from './blocks/fixtures.ts';

const CHANNEL = 'C0ONBOARD';
const TOKEN = 'xoxb-test-token';
const QUICK: RetryPolicy = { attempts: 3, firstDelayMs: 10, maxDelayMs: 40 };

type Setup = { fake: SlackFake; redis: Redis[]; prefix: string; errors: unknown[] };
let setup: Setup | undefined;

async function start(): Promise<Setup> {
  const fake = await SlackFake.start({ botToken: TOKEN });
  setup = { fake, redis: [], prefix: `t${randomBytes(4).toString('hex')}`, errors: [] };
  return setup;
}

/** A notifier as compose builds one, with its own Redis connection (one per process), and no SDK retries of its own. */
function notifier(s: Setup, retry: RetryPolicy = QUICK): SlackNotifier {
  const redis = new Redis(serverUrl('REDIS_URL'));
  s.redis.push(redis);
  return new SlackNotifier({
    client: new WebClient(TOKEN, { slackApiUrl: s.fake.url, retryConfig: { retries: 0 } }),
    channel: CHANNEL,
    approvers: { userIds: [] },
    refs: new MessageRefs(redis, s.prefix),
    posts: new RateLimiter(100),
    updates: new RateLimiter(100),
    minEditIntervalMs: 50,
    retry,
    onError: (err) => s.errors.push(err),
  });
}

afterEach(async () => {
  if (!setup) return;
  const [redis] = setup.redis;
  await redis?.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", 0, `${setup.prefix}:*`);
  await Promise.all(setup.redis.map((r) => r.quit()));
  await setup.fake.close();
  setup = undefined;
});

const view = job({ status: 'running', steps: [step('database', 'succeeded'), step('billing', 'running')] });
/** An event that gets a one-line reply in the thread, saying `summary`. */
const line = (seq: number, summary: string): JobEvent => ({
  type: 'step.approved',
  jobId: view.jobId,
  stepId: 'billing',
  at: Date.now(),
  actor: 'sam',
  summary,
  seq,
});
/** An event that gets no reply: posting the progress message is all it does. */
const started: JobEvent = {
  type: 'step.started',
  jobId: view.jobId,
  stepId: 'billing',
  at: Date.now(),
  actor: 'provisioner',
  summary: 'Step billing started',
  seq: 1,
};

const threadTexts = (s: Setup) => (s.fake.messages(CHANNEL)[0]?.replies ?? []).map((r) => r.text ?? '');
const lines = (...summaries: string[]) => summaries.map((x) => expect.stringContaining(x));

describe('thread replies when Slack misbehaves', () => {
  it('a reply Slack fails a few times goes out once, before the replies after it', async () => {
    const s = await start();
    const n = notifier(s);
    await n.jobChanged(view, [started]);
    s.fake.failNext('chat.postMessage', 'internal_error', 2);
    await n.jobChanged(view, [line(2, 'first'), line(3, 'second')]);
    expect(threadTexts(s)).toEqual(lines('first', 'second'));
    expect(s.errors).toEqual([]);
  });

  it('a reply Slack keeps failing is given up on after the policy’s tries, loudly, and the next one still goes out', async () => {
    const s = await start();
    const n = notifier(s);
    await n.jobChanged(view, [started]);
    s.fake.failNext('chat.postMessage', 'service_unavailable', QUICK.attempts);
    await n.jobChanged(view, [line(2, 'lost one'), line(3, 'next one')]);
    expect(threadTexts(s)).toEqual(lines('next one'));
    expect(s.fake.callsTo('chat.postMessage').filter((c) => c.error === 'service_unavailable')).toHaveLength(QUICK.attempts);
    expect(s.errors).toHaveLength(1);
    const [err] = s.errors;
    expect(err).toBeInstanceOf(SlackDeliveryError);
    expect(String(err)).toContain(`Gave up on the thread reply`);
    expect(String(err)).toContain('lost one');
    expect(String(err)).toContain(`for job ${view.jobId} after 3 attempts (service_unavailable)`);
  });

  it('a reply Slack refuses for good is not retried: it would fail the same way', async () => {
    const s = await start();
    const n = notifier(s);
    await n.jobChanged(view, [started]);
    s.fake.failNext('chat.postMessage', 'msg_too_long');
    await n.jobChanged(view, [line(2, 'too long'), line(3, 'fine')]);
    expect(s.fake.callsTo('chat.postMessage').filter((c) => c.error === 'msg_too_long')).toHaveLength(1);
    expect(threadTexts(s)).toEqual(lines('fine'));
    expect(String(s.errors[0])).toContain(
      'Slack refused the thread reply "Acme Corp (acme): too long" for job acme-3f9a1c0b2d (msg_too_long); not retried',
    );
  });

  it('events read again (a redelivered batch) post only the replies that did not go out', async () => {
    const s = await start();
    const n = notifier(s);
    await n.jobChanged(view, [started, line(2, 'one'), line(3, 'two')]);
    await n.jobChanged(view, [started, line(2, 'one'), line(3, 'two'), line(4, 'three')]);
    expect(threadTexts(s)).toEqual(lines('one', 'two', 'three'));
    expect(s.fake.messages(CHANNEL)).toHaveLength(1);
  });

  it('two processes on the same batch while Slack stumbles post one progress message and each reply once', async () => {
    const s = await start();
    const [a, b] = [notifier(s), notifier(s)];
    s.fake.failNext('chat.postMessage', 'internal_error', QUICK.attempts - 1);
    const batch = [started, line(2, 'one'), line(3, 'two'), line(4, 'three')];
    await Promise.all([a.jobChanged(view, batch), b.jobChanged(view, batch)]);
    expect(s.fake.messages(CHANNEL)).toHaveLength(1);
    expect(threadTexts(s)).toEqual(lines('one', 'two', 'three'));
    expect(s.errors).toEqual([]);
  });

  it('by default a post is tried for most of a minute before it is given up', () => {
    let waited = 0;
    for (let attempt = 1; attempt < DEFAULT_RETRY.attempts; attempt++)
      waited += Math.min(DEFAULT_RETRY.maxDelayMs, DEFAULT_RETRY.firstDelayMs * 2 ** (attempt - 1));
    expect(waited).toBeGreaterThan(30_000);
    expect(waited).toBeLessThan(60_000);
  });
});
