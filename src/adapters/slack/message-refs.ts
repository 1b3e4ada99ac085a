/**
 * Where each job's progress message lives (channel + ts), in Redis so every
 * worker process edits the same message. Posting is guarded so that two
 * processes racing on a new job post one message, not two. Which thread
 * replies went out is kept too, so a batch of events read again (after a
 * crash, or by another process) never posts a reply twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { z } from 'zod';

export type MessageRef = { channel: string; ts: string };

/** Long enough for any redelivery of a job's events; the record then expires with nothing to clean up. */
const REPLIES_KEPT_S = 30 * 24 * 3600;
/** How long one process may spend posting a reply before another may try; above the notifier's whole retry budget. */
const REPLY_HOLD_MS = 120_000;

const RefSchema = z.object({ channel: z.string(), ts: z.string() });

export class MessageRefs {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  async get(jobId: string): Promise<MessageRef | null> {
    const text = await this.redis.get(`${this.prefix}:slack:msg:${jobId}`);
    if (text === null) return null;
    const parsed = RefSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  }

  /** The job's message, posting it with `post` if nobody has yet. */
  async getOrPost(jobId: string, post: () => Promise<MessageRef>): Promise<MessageRef> {
    const existing = await this.get(jobId);
    if (existing) return existing;
    const lock = `${this.prefix}:slack:msg:${jobId}:posting`;
    if ((await this.redis.set(lock, '1', 'PX', 30_000, 'NX')) === 'OK') {
      // If Slack refused the post, let the job's next event post it, instead of waiting out the lock.
      const ref = await post().catch(async (err: unknown) => {
        await this.redis.del(lock);
        throw err;
      });
      await this.redis.set(`${this.prefix}:slack:msg:${jobId}`, JSON.stringify(ref));
      return ref;
    }
    // Another process is posting it: wait for its ref (the lock expires if it died).
    for (let i = 0; i < 300; i++) {
      await sleep(100);
      const ref = await this.get(jobId);
      if (ref) return ref;
    }
    throw new Error(`the progress message for job ${jobId} was never posted`);
  }

  /**
   * Posts one thread reply of a job at most once, `key` naming it (the event's
   * seq). Skipped if it went out before; if another process is posting it
   * now, waits for that to succeed or give up. Recorded only once `post`
   * succeeds: a reply Slack never took may be tried again later.
   */
  async replyOnce(jobId: string, key: string, post: () => Promise<void>): Promise<'posted' | 'already'> {
    const done = `${this.prefix}:slack:replied:${jobId}`;
    const lock = `${done}:${key}:posting`;
    for (;;) {
      if ((await this.redis.set(lock, '1', 'PX', REPLY_HOLD_MS, 'NX')) === 'OK') {
        try {
          if ((await this.redis.sismember(done, key)) === 1) return 'already';
          await post();
          await this.redis.multi().sadd(done, key).expire(done, REPLIES_KEPT_S).exec();
          return 'posted';
        } finally {
          await this.redis.del(lock);
        }
      }
      await sleep(200);
    }
  }

  /** A link to the job's message, waiting up to `waitMs` for it to be posted. */
  async link(jobId: string, waitMs: number): Promise<string | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const ref = await this.get(jobId);
      if (ref) return `https://slack.com/archives/${ref.channel}/p${ref.ts.replace('.', '')}`;
      if (Date.now() > deadline) return undefined;
      await sleep(100);
    }
  }
}
