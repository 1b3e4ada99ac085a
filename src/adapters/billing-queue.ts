/**
 * The billing follow-ups on BullMQ: one job per recorded event, its id the
 * event's key, so a redelivery while the first is kept schedules nothing new.
 * A follow-up that throws is retried with backoff; the job itself is
 * idempotent (the inbox remembers what was done).
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { closeWithin } from '../engine/close-within.ts';
import type { BillingFollowUps } from '../ports/billing-follow-ups.ts';

export const BILLING_QUEUE = 'billing-events';

/** BullMQ job ids may not contain ":" (its key separator). */
const jobIdOf = (kind: string, key: string) => `${kind}-${Buffer.from(key).toString('base64url')}`;

const GRACE = 'grace-ended';
const DRIFT_CHECK = 'drift-check';
const DRIFT_SCHEDULER = 'drift-check-nightly';
const RETRIES = { attempts: 8, backoff: { type: 'exponential', delay: 1_000 } };
const KEEP = { removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } };

export type BillingQueue = BillingFollowUps & {
  /** Runs the nightly drift check now (tests, an operator). */
  checkDriftNow(): Promise<void>;
  close(): Promise<void>;
};

export function billingQueue(opts: {
  redisUrl: string;
  prefix: string;
  /** Run the follow-ups in this process (workers), or only schedule them. */
  run?: { followUp(key: string): Promise<string>; graceEnded(key: string): Promise<string>; driftCheck(): Promise<string> };
  /** Cron pattern (UTC) of the nightly drift check; undefined: none. */
  driftCheckCron?: string | undefined;
  concurrency?: number;
  onError(err: unknown): void;
}): BillingQueue {
  const connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<{ key: string }>(BILLING_QUEUE, { connection, prefix: opts.prefix });
  const run = opts.run;
  const workerConnection = run ? new Redis(opts.redisUrl, { maxRetriesPerRequest: null }) : undefined;
  const worker =
    run && workerConnection
      ? new Worker<{ key: string }>(
          BILLING_QUEUE,
          async (job) => {
            if (job.name === DRIFT_CHECK) return run.driftCheck();
            return job.name === GRACE ? run.graceEnded(job.data.key) : run.followUp(job.data.key);
          },
          {
            connection: workerConnection,
            prefix: opts.prefix,
            concurrency: opts.concurrency ?? 10,
          },
        )
      : undefined;
  worker?.on('error', opts.onError);
  queue.on('error', opts.onError);
  // One scheduler for every process (upserted by id), so the check runs once a night however many workers run.
  // Only processes that run workers touch it: a CLI command must not wait on Redis for it.
  if (run) {
    const scheduling = opts.driftCheckCron
      ? queue.upsertJobScheduler(DRIFT_SCHEDULER, { pattern: opts.driftCheckCron, tz: 'UTC' }, { name: DRIFT_CHECK, data: { key: '' }, opts: KEEP })
      : queue.removeJobScheduler(DRIFT_SCHEDULER);
    scheduling.catch(opts.onError);
  }
  return {
    async schedule(key) {
      await queue.add('follow-up', { key }, { jobId: jobIdOf('billing', key), ...RETRIES, ...KEEP });
    },
    async scheduleGraceEnd(key, delayMs) {
      await queue.add(GRACE, { key }, { jobId: jobIdOf('grace', key), delay: delayMs, ...RETRIES, ...KEEP });
    },
    async checkDriftNow() {
      await queue.add(DRIFT_CHECK, { key: '' }, KEEP);
    },
    async close() {
      if (worker) await closeWithin(worker, 15_000, opts.onError);
      await queue.close();
      await workerConnection?.quit();
      await connection.quit();
    },
  };
}
