/** The sandbox "external API", kept in Redis so it survives worker crashes like a real one would. */
import type { Redis } from 'ioredis';
import { Script } from '../engine/script.ts';
import type { SandboxLedger } from '../ports/step-services.ts';

/** KEYS: the ledger, its creation counts; ARGV: the resource's key, its record. 1 if created now, 0 if it existed. */
const CREATE = new Script(
  "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end redis.call('HINCRBY', KEYS[2], ARGV[1], 1) return 1",
);

export class RedisSandboxLedger implements SandboxLedger {
  private readonly redis: Redis;
  private readonly key: string;

  constructor(redis: Redis, key: string) {
    this.redis = redis;
    this.key = key;
  }

  /**
   * Creates and counts in one script: a command that reached Redis but whose reply was lost (a restart) is
   * sent again by the client, and a second HINCRBY on its own would count a creation that never happened.
   */
  async create(key: string, resource: { jobId: string; stepId: string; name: string }): Promise<{ created: boolean }> {
    const created = await CREATE.run(this.redis, [this.key, `${this.key}:creations`], [key, JSON.stringify({ ...resource, createdAt: Date.now() })]);
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
