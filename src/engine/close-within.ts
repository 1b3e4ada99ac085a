/**
 * Closes a BullMQ worker, waiting at most `ms` for it. BullMQ 6.7's
 * Worker.close() can stay pending for good after a Redis restart (seen about
 * once in 30 restarts in our tests, on an idle worker; upstream: bullmq#4656,
 * #4585): a process asked to stop would then never stop. Past the bound the
 * worker's connections are cut instead, which is what a stop of the process
 * would do anyway: an unfinished step job is taken up again as stalled, and
 * every step is idempotent.
 */
import type { Worker } from 'bullmq';

export async function closeWithin(worker: Worker, ms: number, onSlow: (err: Error) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    if ((await Promise.race([worker.close(), late])) !== 'late') return;
  } finally {
    clearTimeout(timer);
  }
  onSlow(new Error(`the ${worker.name} worker did not close within ${ms / 1000} s; cutting its Redis connections`));
  await worker.disconnect();
}
