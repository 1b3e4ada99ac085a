import { StepTimeoutError } from '../domain/errors.ts';
import { formatDuration } from '../domain/audit.ts';

/** Runs `work` with a signal that aborts after `ms`; the race ends at the timeout even if the work ignores the signal. */
export async function withTimeout<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StepTimeoutError(`${what} timed out after ${formatDuration(ms)}`));
      controller.abort();
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
