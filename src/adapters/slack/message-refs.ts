/**
 * Where each job's progress message lives (channel + ts), in Redis so every
 * worker process edits the same message. Posting is guarded so that two
 * processes racing on a new job post one message, not two.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { z } from 'zod';

export type MessageRef = { channel: string; ts: string };

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
