/**
 * How the health check asks each server whether it answers: Redis with a
 * PING on a small connection of its own (one that fails at once while Redis
 * is unreachable, instead of queueing the command as the engine's
 * connections do), MongoDB with a ping that gives up when the check does.
 */
import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';
import type { Probe } from '../ports/health.ts';

export type RedisProbe = { probe: Probe; close(): Promise<void> };

export function redisProbe(url: string): RedisProbe {
  let lastError: string | undefined;
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 250, 2_000),
  });
  // The check reports the error; it is not worth an unhandled-error warning on every reconnect.
  redis.on('error', (err: Error) => {
    lastError = err.message;
  });
  redis.on('ready', () => {
    lastError = undefined;
  });
  return {
    async probe(signal) {
      if (redis.status === 'reconnecting' || redis.status === 'end' || redis.status === 'close') {
        throw new Error(`Redis is unreachable (${lastError ?? redis.status})`);
      }
      if (redis.status !== 'ready') await once(redis, 'ready', { signal });
      await redis.ping();
    },
    async close() {
      redis.disconnect();
    },
  };
}

export function mongoProbe(client: MongoClient): Probe {
  return async (signal) => {
    await client.db('admin').command({ ping: 1 }, { signal });
  };
}
