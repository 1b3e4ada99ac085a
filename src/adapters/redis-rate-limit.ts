/**
 * The API's per-caller budget in Redis: a fixed one-minute window per caller,
 * counted atomically by one script (INCR, and the window's expiry set with
 * its first request), so every process shares the count. A window boundary
 * can let through up to twice the budget within a minute; that is the price
 * of one key and one round trip per request.
 */
import type { Redis } from 'ioredis';
import type { Admission, CallerRateLimit } from '../ports/rate-limit.ts';

const WINDOW_MS = 60_000;

/** Returns [requests in this window, ms until its key expires]. */
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { n, redis.call('PTTL', KEYS[1]) }
`;

export class RedisCallerRateLimit implements CallerRateLimit {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly perMinute: number;

  constructor(redis: Redis, opts: { prefix: string; perMinute: number }) {
    this.redis = redis;
    this.prefix = opts.prefix;
    this.perMinute = opts.perMinute;
  }

  async admit(caller: string): Promise<Admission> {
    const now = Date.now();
    const window = Math.floor(now / WINDOW_MS);
    const answer: unknown = await this.redis.eval(COUNT, 1, `${this.prefix}:${caller}:${window}`, String(WINDOW_MS));
    const [count = 1, ttlMs = -1] = Array.isArray(answer) ? answer.map(Number) : [];
    // The window ends at its minute's boundary (or its key's expiry, if sooner): never less than a second away.
    const untilBoundary = (window + 1) * WINDOW_MS - now;
    const waitMs = ttlMs > 0 ? Math.min(ttlMs, untilBoundary) : untilBoundary;
    return {
      admitted: count <= this.perMinute,
      limit: this.perMinute,
      remaining: Math.max(0, this.perMinute - count),
      resetSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      windowSeconds: WINDOW_MS / 1000,
    };
  }
}
