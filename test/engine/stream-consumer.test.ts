import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/domain/events.ts';
import { StreamConsumer, type StreamEntry } from '../../src/engine/stream-consumer.ts';
import { serverUrl } from '../support/servers.ts';

type Story = {
  /** A connection of the test's own, to play Redis's part. */
  redis: Redis;
  stream: string;
  /** The summaries of the events the consumer handled, in order. */
  handled: string[];
  /** How many entries each call of the handler got. */
  batches: number[];
  errors: string[];
  /** The consumer's own connection's id, to cut it. */
  connectionId: number;
  /** A job event with this summary, as the stream entry's fields. */
  entry(summary: string): string[];
  add(summary: string): Promise<unknown>;
  /** Adds an event 'first' and waits until the consumer has handled it: the consumer is up and reading. */
  firstHandled(): Promise<void>;
};

/**
 * Consumer "one" of group "recorder" on a stream of the test's own, started, blocking 50 ms at a time;
 * `handle` may throw first (a store that is away). All of it is stopped and removed after the test.
 */
function consumerStories(): (opts?: { claimIdleMs?: number; gatherMs?: number; handle?: () => void }) => Promise<Story> {
  const opened: { redis: Redis[]; consumers: StreamConsumer[]; streams: string[] } = { redis: [], consumers: [], streams: [] };
  afterEach(async () => {
    for (const c of opened.consumers.splice(0)) await c.stop();
    for (const stream of opened.streams.splice(0)) await opened.redis[0]?.del(stream);
    for (const r of opened.redis.splice(0)) await r.quit();
  });
  return async (opts = {}) => {
    const redis = new Redis(serverUrl('REDIS_URL'), { maxRetriesPerRequest: null });
    const blocking = redis.duplicate();
    opened.redis.push(redis, blocking);
    const stream = `t${randomBytes(4).toString('hex')}:events`;
    opened.streams.push(stream);
    const handled: string[] = [];
    const batches: number[] = [];
    const errors: string[] = [];
    const consumer = new StreamConsumer({
      redis: blocking,
      stream,
      group: 'recorder',
      consumer: 'one',
      blockMs: 50,
      ...(opts.claimIdleMs !== undefined ? { claimIdleMs: opts.claimIdleMs } : {}),
      ...(opts.gatherMs !== undefined ? { gatherMs: opts.gatherMs } : {}),
      handle: async (entries: readonly StreamEntry[]) => {
        opts.handle?.();
        handled.push(...entries.map((e) => e.event.summary));
        batches.push(entries.length);
      },
      onError: (err) => errors.push(String(err)),
    });
    opened.consumers.push(consumer);
    const connectionId = Number(await blocking.client('ID'));
    await consumer.start();
    const entry = (summary: string) => {
      const event: JobEvent = { type: 'job.created', jobId: 'job-1', at: Date.now(), actor: 'jane.ae', summary };
      return ['e', JSON.stringify(event)];
    };
    const add = (summary: string) => redis.xadd(stream, '*', ...entry(summary));
    const firstHandled = async () => {
      await add('first');
      await until(() => handled.includes('first'));
    };
    return { redis, stream, handled, batches, errors, connectionId, entry, add, firstHandled };
  };
}

describe('a stream consumer whose group disappears', () => {
  const consumer = consumerStories();

  it('makes the group again and goes on reading, instead of failing every read from then on', async () => {
    const { redis, stream, handled, errors, add } = await consumer();
    await add('before');
    await until(() => handled.includes('before'));

    // What a Redis that restarted without its data looks like to a consumer.
    await redis.xgroup('DESTROY', stream, 'recorder');
    await add('after');
    await until(() => handled.includes('after'));
    expect(errors.some((e) => e.includes('NOGROUP'))).toBe(true);
  });
});

describe('a stream consumer whose handler fails (the store is away)', () => {
  const consumer = consumerStories();

  it('handles the same entries again as soon as it can, in order, before newer ones, without waiting to claim them', async () => {
    let storeAway = 2;
    const { redis, stream, handled, add } = await consumer({
      // Another member would claim them only after a minute: far past this test.
      claimIdleMs: 60_000,
      handle: () => {
        if (storeAway-- > 0) throw new Error('the store is away');
      },
    });
    await add('first');
    await sleep(100);
    await add('second');
    await until(() => handled.includes('second'));
    expect(handled).toEqual(['first', 'second']);
    expect(await redis.xpending(stream, 'recorder')).toEqual([0, null, null, null]);
  });
});

describe('a stream consumer whose connection drops with a reply in flight (Redis restarting)', () => {
  const consumer = consumerStories();

  it('handles the entries Redis handed over in the lost reply first, in order, without waiting to claim them', async () => {
    const { redis, stream, handled, connectionId, entry, add, firstHandled } = await consumer({ claimIdleMs: 60_000 });
    await firstHandled();

    // Redis hands two entries to this member, and the reply never reaches it: the connection drops.
    await redis
      .multi()
      .xadd(stream, '*', ...entry('lost one'))
      .xadd(stream, '*', ...entry('lost two'))
      .xreadgroup('GROUP', 'recorder', 'one', 'COUNT', 10, 'STREAMS', stream, '>')
      .exec();
    await redis.client('KILL', 'ID', String(connectionId));
    await add('after');
    await until(() => handled.includes('after'));
    expect(handled).toEqual(['first', 'lost one', 'lost two', 'after']);
    expect(await redis.xpending(stream, 'recorder')).toEqual([0, null, null, null]);
  });
});

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await sleep(20)) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
  }
}

describe('a consumer that lets events gather (the recorder)', () => {
  const consumer = consumerStories();

  it('handles the first event at once, and the burst behind it in a batch or two rather than one by one', async () => {
    const { handled, batches, add } = await consumer({ gatherMs: 2_000 });
    // Steps keep finishing, an event every 10 ms: the consumer keeps waiting for the rest of the burst.
    for (let i = 0; i < 21; i++) {
      await add(`burst ${i}`);
      await sleep(10);
    }
    await until(() => handled.length === 21);
    expect(batches.length).toBeLessThanOrEqual(3);
    expect(handled).toEqual(Array.from({ length: 21 }, (_, i) => `burst ${i}`));
  });

  it('handles a lone change after a quiet moment at once, not after the whole gathering time', async () => {
    const { handled, add, firstHandled } = await consumer({ gatherMs: 5_000 });
    await firstHandled();
    await sleep(200);
    const clicked = Date.now();
    await add('approved by sam');
    await until(() => handled.includes('approved by sam'));
    expect(Date.now() - clicked).toBeLessThan(1_000);
  });

  it('gathers for no longer than its gathering time while events keep coming', async () => {
    const { handled, batches, add, firstHandled } = await consumer({ gatherMs: 150 });
    await firstHandled();
    for (let i = 0; i < 60; i++) {
      await add(`burst ${i}`);
      await sleep(10);
    }
    await until(() => handled.length === 61);
    // 600 ms of events in batches of at most ~150 ms of them.
    expect(batches.length).toBeGreaterThanOrEqual(4);
  });

  it('without gathering, reads again at once', async () => {
    const { handled, batches, add, firstHandled } = await consumer();
    await firstHandled();
    for (let i = 0; i < 20; i++) {
      await add(`burst ${i}`);
      await sleep(5);
    }
    await until(() => handled.length === 21);
    expect(batches.length).toBeGreaterThan(2);
  });
});
