/** Figures about the queue and the event stream, read for the metrics (cheap: a few Redis calls). */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

export function queueDepth(queue: Queue): Promise<Record<string, number>> {
  return queue.getJobCounts(...QUEUE_STATES);
}

export type StreamGroup = { group: string; pending: number; lag: number | undefined };

/** XINFO GROUPS: per consumer group, entries delivered but not acknowledged, and entries not yet delivered. */
export async function streamGroups(redis: Redis, stream: string): Promise<StreamGroup[]> {
  if ((await redis.exists(stream)) === 0) return [];
  const reply: unknown = await redis.xinfo('GROUPS', stream);
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((raw: unknown) => {
    const fields = pairs(raw);
    const group = fields.get('name');
    const pending = fields.get('pending');
    const lag = fields.get('lag');
    if (typeof group !== 'string' || typeof pending !== 'number') return [];
    return [{ group, pending, lag: typeof lag === 'number' ? lag : undefined }];
  });
}

/** A flat [name, value, name, value…] reply as a map. */
function pairs(raw: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) out.set(String(raw[i]), raw[i + 1]);
  return out;
}
