/**
 * A process asked to stop stops: a BullMQ worker that does not close in time
 * (a job that never ends here; after a Redis restart, BullMQ's own close can
 * hang the same way) has its connections cut, and the caller hears why.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { closeWithin } from '../../src/engine/close-within.ts';
import { serverUrl } from '../support/servers.ts';

describe('closing a step worker within a bound', () => {
  it('cuts a worker whose job never ends, and says so; a worker with nothing running closes at once, quietly', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}`;
    const connection = new Redis(serverUrl('REDIS_URL'), { maxRetriesPerRequest: null });
    const queue = new Queue('steps', { connection, prefix });
    let started = false;
    const stuck = new Worker(
      'steps',
      () => {
        started = true;
        return new Promise(() => undefined);
      },
      { connection: connection.duplicate(), prefix },
    );
    await queue.add('forever', {});
    while (!started) await new Promise((resolve) => setTimeout(resolve, 20));

    const slow: Error[] = [];
    const t0 = Date.now();
    await closeWithin(stuck, 300, (err) => slow.push(err));
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(slow.map((e) => e.message)).toEqual(['the steps worker did not close within 0.3 s; cutting its Redis connections']);

    const idle = new Worker('steps', async () => undefined, { connection: connection.duplicate(), prefix, autorun: false });
    await closeWithin(idle, 300, (err) => slow.push(err));
    expect(slow).toHaveLength(1);

    await queue.obliterate({ force: true });
    await queue.close();
    await connection.quit();
  });
});
