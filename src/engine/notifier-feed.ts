/**
 * The notifier's feed: it follows the same batches as the recorder in a
 * consumer group of its own, so a slow Slack never holds up the record.
 */
import type { JobNotifier } from '../ports/notifier.ts';
import { jobBatches, type Sources } from './job-batches.ts';
import { isConnectionError } from './redis-outage.ts';
import type { StreamEntry } from './stream-consumer.ts';

/** Tells the notifier, job by job; one job's failure to notify does not stop the others (Redis being away does). */
export async function notifyEntries(
  deps: Sources & { notifier: JobNotifier; onError(err: unknown, about?: { jobId: string }): void },
  entries: readonly StreamEntry[],
): Promise<void> {
  for (const { view, entries: e } of await jobBatches(deps, entries)) {
    try {
      await deps.notifier.jobChanged(
        view,
        e.map((x) => x.event),
      );
    } catch (err) {
      // Redis away fails every job alike: the batch stays unacknowledged and is handled again once it is back.
      if (isConnectionError(err)) throw err;
      deps.onError(err, { jobId: view.jobId });
    }
  }
}
