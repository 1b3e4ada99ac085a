/** The sandbox "external API", kept in Redis so it survives worker crashes like a real one would. */
import type { Redis } from 'ioredis';
import type { SandboxLedger } from '../ports/step-services.ts';

export class RedisSandboxLedger implements SandboxLedger {
  private readonly redis: Redis;
  private readonly key: string;

  constructor(redis: Redis, key: string) {
    this.redis = redis;
    this.key = key;
  }

  async create(key: string, resource: { jobId: string; stepId: string; name: string }): Promise<{ created: boolean }> {
    const created = await this.redis.hsetnx(this.key, key, JSON.stringify({ ...resource, createdAt: Date.now() }));
    if (created === 1) await this.redis.hincrby(`${this.key}:creations`, key, 1);
    return { created: created === 1 };
  }

  async exists(key: string): Promise<boolean> {
    return (await this.redis.hexists(this.key, key)) === 1;
  }

  async remove(key: string): Promise<{ removed: boolean }> {
    return { removed: (await this.redis.hdel(this.key, key)) === 1 };
  }

  async touch(counterKey: string): Promise<number> {
    return this.redis.hincrby(`${this.key}:counters`, counterKey, 1);
  }

  /** For tests and the demo: every resource currently held, and how many times each key was created. */
  async inventory(): Promise<{ resources: Record<string, string>; creations: Record<string, string> }> {
    const [resources, creations] = await Promise.all([this.redis.hgetall(this.key), this.redis.hgetall(`${this.key}:creations`)]);
    return { resources, creations };
  }
}
