/**
 * The figures the metrics read when scraped: jobs by status and waiting
 * approvals from the store, queue depth and event stream backlog from Redis.
 */
import type { JobStatus } from '../domain/job.ts';
import type { Engine } from '../engine/engine.ts';
import type { SampledFigures } from '../ports/metrics.ts';
import type { JobStore } from '../ports/store.ts';

/** Every status, so a status with no job reads 0 rather than vanishing from the graph. */
const NO_JOBS: Readonly<Record<JobStatus, number>> = {
  running: 0,
  awaiting_approval: 0,
  awaiting_input: 0,
  failed: 0,
  live: 0,
  cancelled: 0,
  rejected: 0,
  rolling_back: 0,
  rolled_back: 0,
  rollback_failed: 0,
};

/** Jobs that can hold a step waiting for an approver (a cancelled or finished job waits for nobody). */
const CAN_WAIT: readonly JobStatus[] = ['running', 'awaiting_approval', 'awaiting_input', 'failed'];
/** More jobs than this waiting at once means something else is wrong; the count then says "at least". */
const MAX_OPEN_JOBS = 1000;

export function sampledFigures(deps: { store: JobStore; engine: Engine }): SampledFigures {
  return {
    jobsByStatus: async () => ({ ...NO_JOBS, ...(await deps.store.countByStatus()) }),
    approvalsWaiting: async () => {
      const records = await deps.store.findJobs({ statuses: CAN_WAIT, limit: MAX_OPEN_JOBS });
      const since = records.flatMap((r) =>
        r.view.steps.filter((s) => s.state === 'waiting_approval').map((s) => s.startedAt ?? r.updatedAt.getTime()),
      );
      return { count: since.length, oldestSince: since.length > 0 ? Math.min(...since) : undefined };
    },
    queueDepth: () => deps.engine.queueDepth(),
    eventStream: () => deps.engine.eventStreamGroups(),
    stepSlots: async () => deps.engine.stepSlots(),
  };
}
