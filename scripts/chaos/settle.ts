/**
 * When is a chaos run over? When every job has settled: live, or failed with
 * nothing left running (a failed blocking step halts the job; steps already
 * under way finish first). A job that has not settled by the deadline is stuck.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../../src/compose.ts';
import type { JobView } from '../../src/domain/job-view.ts';

export function isSettled(view: JobView): boolean {
  if (view.status === 'live') return true;
  return view.status === 'failed' && !view.steps.some((s) => s.state === 'running' || s.state === 'ready');
}

/** Polls the live views until every job settled or the deadline passed; returns the last views (null: no live state). */
export async function waitUntilSettled(
  app: App,
  jobIds: readonly string[],
  deadline: () => number,
  progress: (settled: number) => void,
): Promise<Map<string, JobView | null>> {
  const views = new Map<string, JobView | null>();
  let last = -1;
  for (;;) {
    for (const jobId of jobIds) {
      const known = views.get(jobId);
      if (known && isSettled(known)) continue;
      views.set(jobId, await app.engine.view(jobId).catch(() => known ?? null));
    }
    const settled = [...views.values()].filter((v) => v !== null && isSettled(v)).length;
    if (settled !== last) progress(settled);
    last = settled;
    if (settled === jobIds.length || Date.now() > deadline()) return views;
    await sleep(1000);
  }
}

/** Why a failed job failed, in its own words: each failed step and its error. */
export function failureReasons(view: JobView): string[] {
  return view.steps.filter((s) => s.state === 'failed').map((s) => `${s.id}: ${s.error ?? '(no reason given)'}`);
}
