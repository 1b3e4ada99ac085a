/**
 * After the chaos: is the durable record whole? Every event in the Redis
 * stream must be in the MongoDB audit trail (the recorder writes each under
 * `<jobId>:<stream id>`), and every stored job view must equal the job's live
 * state. Both are checked once the recorder has read the stream to its end,
 * so what is missing then is lost, not late.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { Engine } from '../../src/engine/engine.ts';
import type { JobStore } from '../../src/ports/store.ts';
import { parseEvent } from '../../src/domain/events.ts';
import { redact } from '../../src/domain/redact.ts';

/** Waits until the recorder group has been handed and has acknowledged every entry; false when it never got there. */
export async function recorderCaughtUp(redis: Redis, stream: string, stallMs: number): Promise<boolean> {
  // A recorder far behind on a loaded machine is late, not losing: wait as long as it keeps reading
  // (its position moves), and give up only once it has stood still for stallMs, or after half an hour.
  const giveUpAt = Date.now() + 30 * 60_000;
  let deadline = Date.now() + stallMs;
  let position = '';
  while (Date.now() < deadline && Date.now() < giveUpAt) {
    const [last] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    const group = await recorderGroup(redis, stream);
    if (last && group && group.pending === 0 && group.lastDelivered === last[0]) return true;
    const now = group ? `${group.lastDelivered}/${group.pending}` : '';
    if (now !== position) {
      position = now;
      deadline = Date.now() + stallMs;
    }
    await sleep(500);
  }
  return false;
}

async function recorderGroup(redis: Redis, stream: string): Promise<{ pending: number; lastDelivered: string } | undefined> {
  const groups: unknown = await redis.xinfo('GROUPS', stream);
  if (!Array.isArray(groups)) return undefined;
  for (const group of groups) {
    if (!Array.isArray(group)) continue;
    const field = (name: string): unknown => group[group.indexOf(name) + 1];
    if (field('name') === 'recorder') return { pending: Number(field('pending')), lastDelivered: String(field('last-delivered-id')) };
  }
  return undefined;
}

/**
 * Stream entries whose audit entry is not in the store, with their job and type for the report;
 * and how many events of each type the stream holds (how often steps were picked up again, retried…).
 */
export async function lostEvents(redis: Redis, stream: string, db: Db): Promise<{ lost: string[]; types: Map<string, number> }> {
  const stored = new Set(
    (
      await db
        .collection<{ _id: string }>('audit')
        .find({}, { projection: { _id: 1 } })
        .toArray()
    ).map((d) => d._id),
  );
  const lost: string[] = [];
  const types = new Map<string, number>();
  for (let from = '-'; ; ) {
    const entries = await redis.xrange(stream, from, '+', 'COUNT', 1000);
    for (const [id, fields] of entries) {
      const event = parseEvent(fields[fields.indexOf('e') + 1] ?? '');
      if (event) types.set(event.type, (types.get(event.type) ?? 0) + 1);
      if (event === null) lost.push(`${id}: an event that does not parse`);
      else if (!stored.has(`${event.jobId}:${id}`)) lost.push(`${id}: ${event.type}${event.stepId ? ` ${event.stepId}` : ''} of job ${event.jobId}`);
    }
    const last = entries.at(-1);
    if (!last || entries.length < 1000) return { lost, types };
    from = `(${last[0]}`;
  }
}

/** Jobs whose stored view differs from the live one, with what differs; retried for `settleMs` while the last writes land. */
export async function staleViews(app: { engine: Engine; store: JobStore }, jobIds: readonly string[], settleMs: number): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const stale: string[] = [];
    for (const jobId of jobIds) {
      const difference = await viewDifference(app, jobId);
      if (difference) stale.push(`${jobId}: ${difference}`);
    }
    if (stale.length === 0 || Date.now() > deadline) return stale;
    await sleep(1000);
  }
}

async function viewDifference(app: { engine: Engine; store: JobStore }, jobId: string): Promise<string | undefined> {
  const [live, stored] = await Promise.all([app.engine.view(jobId), app.store.getJob(jobId)]);
  if (!live) return 'no live state';
  if (!stored) return 'not in the store';
  // The store keeps views redacted; compare like with like.
  const want = canonical(redact(live));
  const got = canonical(stored.view);
  if (want === got) return undefined;
  return `stored seq ${stored.view.seq} status ${stored.view.status}, live seq ${live.seq} status ${live.status}`;
}

/** JSON with keys in a fixed order: a store may hand fields back in another order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}
