/** One-time tokens in Redis: 32 random bytes, stored by their hash with a TTL, taken with GETDEL so only one redeemer wins. */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { OneTimeTokens } from '../ports/one-time-tokens.ts';

export class RedisOneTimeTokens implements OneTimeTokens {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  private key(token: string): string {
    // Only a hash is stored: a Redis dump does not hand out working links.
    return `${this.prefix}:${createHash('sha256').update(token).digest('hex')}`;
  }

  async issue(value: string, ttlMs: number): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.redis.set(this.key(token), value, 'PX', ttlMs);
    return token;
  }

  async redeem(token: string): Promise<string | undefined> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
    const value = await this.redis.getdel(this.key(token));
    return value ?? undefined;
  }
}
