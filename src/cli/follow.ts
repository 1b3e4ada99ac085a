/** Live progress in the terminal until the job settles. */
import type { App } from '../compose.ts';
import { isSettled, type JobStatus } from '../domain/job.ts';
import type { JobView } from '../domain/job-view.ts';
import { eventLine } from './render.ts';

export type FollowOptions = {
  /** Keep following through these statuses instead of returning (e.g. waiting for an approval from another terminal). */
  waitThrough?: readonly JobStatus[];
  /** Called once when the job first parks on one of `waitThrough`. */
  onWaiting?: (view: JobView) => Promise<void> | void;
  print: (line: string) => void;
};

export async function follow(app: App, jobId: string, opts: FollowOptions): Promise<JobView> {
  const controller = new AbortController();
  const stopOnSignal = () => controller.abort();
  process.once('SIGINT', stopOnSignal);
  let last: JobView | null = await app.service.jobView(jobId);
  let notifiedWaiting = '';
  try {
    const onLost = (err: unknown) => app.logger.warn({ err, jobId }, 'lost the Redis connection while following the job; reconnecting');
    for await (const { event, view } of app.service.follow(jobId, { signal: controller.signal, onLost })) {
      last = view;
      opts.print(eventLine(event, last));
      if (!last || !isSettled(last.status)) continue;
      if (!opts.waitThrough?.includes(last.status)) break;
      if (notifiedWaiting !== last.status) {
        notifiedWaiting = last.status;
        await opts.onWaiting?.(last);
      }
    }
  } finally {
    process.off('SIGINT', stopOnSignal);
    controller.abort();
  }
  const final = last ?? (await app.service.jobView(jobId));
  if (!final) throw new Error(`job ${jobId} disappeared`);
  return final;
}
