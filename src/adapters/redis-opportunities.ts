/**
 * The opportunity index in Redis: one string key per opportunity, holding
 * its job id, next to the jobs' live state (kept as long as they are). A
 * claim is one round trip (a script: GET, and SET when free, so it works
 * on Redis before 7.0, which refuses SET with both NX and GET).
 */
import type { Redis } from 'ioredis';
import { Script } from '../engine/script.ts';
import type { OpportunityIndex } from '../ports/opportunities.ts';

const CLAIM = new Script(`
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1])
return false
`);

const RELEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`);

export class RedisOpportunityIndex implements OpportunityIndex {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, opts: { prefix: string }) {
    this.redis = redis;
    this.prefix = opts.prefix;
  }

  private key(crmOpportunityId: string): string {
    return `${this.prefix}:${crmOpportunityId}`;
  }

  async claim(crmOpportunityId: string, jobId: string): Promise<string | null> {
    const held = await CLAIM.run(this.redis, [this.key(crmOpportunityId)], [jobId]);
    return typeof held === 'string' ? held : null;
  }

  async assign(crmOpportunityId: string, jobId: string): Promise<void> {
    await this.redis.set(this.key(crmOpportunityId), jobId);
  }

  async release(crmOpportunityId: string, jobId: string): Promise<void> {
    await RELEASE.run(this.redis, [this.key(crmOpportunityId)], [jobId]);
  }
}
