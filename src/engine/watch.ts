/**
 * Follows one job's events as they happen, straight from the stream (not
 * through the store), so a terminal shows progress the moment it is made.
 */
import type { Redis } from 'ioredis';
import type { JobEvent } from '../domain/events.ts';
import { reportLostConnection } from './redis-outage.ts';
import { eventOf } from './stream-consumer.ts';

export async function* watchJob(
  redis: Redis,
  stream: string,
  jobId: string,
  signal: AbortSignal,
  onLost: (err: unknown) => void,
): AsyncGenerator<JobEvent> {
  // A connection of its own (XREAD BLOCK holds it); duplicates do not inherit listeners.
  const reader = redis.duplicate();
  reportLostConnection(reader, onLost);
  let last = '0-0';
  try {
    while (!signal.aborted) {
      const reply = await reader.xread('COUNT', 500, 'BLOCK', 250, 'STREAMS', stream, last);
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          const event = eventOf(fields);
          if (event?.jobId === jobId) yield event;
        }
      }
    }
  } finally {
    reader.disconnect();
  }
}
