/**
 * A batch of stream entries, job by job: each job's current view and its
 * events, plus the closing event ("live", "rollback finished") when this batch
 * holds the change that ended the job. The recorder and the notifier each
 * follow the stream in a group of their own and both read it so.
 */
import { kindDoneWords, kindOf } from '../domain/job-kind.ts';
import { ENGINE_ACTOR, type JobEvent } from '../domain/events.ts';
import { buildJobView, type JobView } from '../domain/job-view.ts';
import type { DefinitionCache } from './definitions.ts';
import type { JobDefinition } from '../domain/job-definition.ts';
import type { JobState, JobStateStore } from './job-state.ts';
import type { StreamEntry } from './stream-consumer.ts';

export type Sources = { state: JobStateStore; definitions: DefinitionCache };

/** A job's definition (most are cached) and live state, read together; null when either is gone. */
export async function liveJob(sources: Sources, jobId: string): Promise<{ definition: JobDefinition; state: JobState } | null> {
  const [definition, state] = await Promise.all([sources.definitions.get(jobId), sources.state.read(jobId)]);
  return definition && state ? { definition, state } : null;
}

/**
 * One job's share of a batch: its current view and its events, plus "is live" when this batch made it so.
 * `seenAll`: the view holds no change whose event is not in this batch or an earlier one.
 */
export type JobBatch = { view: JobView; entries: { id: string; event: JobEvent }[]; seenAll: boolean };

/** The events that can complete a job (a notification step failing last completes it too). */
const COMPLETING: ReadonlySet<JobEvent['type']> = new Set(['step.succeeded', 'step.overridden', 'step.failed']);
/** The events that can end a rollback (one with nothing to undo ends as it starts). */
const UNDOING: ReadonlySet<JobEvent['type']> = new Set([
  'step.compensated',
  'step.compensation_failed',
  'job.rollback_started',
  'job.rollback_retried',
]);

export async function jobBatches(sources: Sources, entries: readonly StreamEntry[]): Promise<JobBatch[]> {
  const byJob = new Map<string, StreamEntry[]>();
  for (const entry of entries) {
    const jobEntries = byJob.get(entry.event.jobId);
    if (jobEntries) jobEntries.push(entry);
    else byJob.set(entry.event.jobId, [entry]);
  }
  // Every job at once: the engine's connection pipelines the reads.
  const sourced = await Promise.all([...byJob].map(async ([jobId, jobEntries]) => ({ live: await liveJob(sources, jobId), jobEntries })));
  const batches: JobBatch[] = [];
  for (const { live, jobEntries } of sourced) {
    if (!live) continue;
    const { definition, state } = live;
    const view = buildJobView(definition, state);
    const closing = closingEvent(view, jobEntries);
    const seenAll = state.lastEventSeq <= Math.max(...jobEntries.map((e) => e.event.seq ?? 0));
    batches.push({ view, entries: closing ? [...jobEntries, closing] : jobEntries, seenAll });
  }
  return batches;
}

/**
 * "Live" or "rollback finished", derived once: only the batch holding the job's latest change ended it.
 * A follower that lags (the notifier) sees the final status while reading older events, and would
 * otherwise announce it once per batch.
 */
function closingEvent(view: JobView, entries: readonly StreamEntry[]): { id: string; event: JobEvent } | undefined {
  const endedBy = (types: ReadonlySet<JobEvent['type']>) => entries.some((e) => types.has(e.event.type) && e.event.seq === view.seq);
  // One millisecond after the event that ended it, so the trail reads in order.
  const at = Math.max(...entries.map((e) => e.event.at)) + 1;
  const base = { jobId: view.jobId, at, actor: ENGINE_ACTOR };
  if (view.status === 'live' && endedBy(COMPLETING)) {
    return {
      id: `${view.jobId}-live`,
      event: { ...base, type: 'job.live', summary: doneSummary(view) },
    };
  }
  if ((view.status === 'rolled_back' || view.status === 'rollback_failed') && endedBy(UNDOING)) {
    return { id: `${view.jobId}-rollback-${view.seq}`, event: { ...base, type: 'job.rollback_finished', summary: rollbackSummary(view) } };
  }
  return undefined;
}

/** "Tenant acme is live at …" for provisioning; "Suspended acme" for a lifecycle job. */
function doneSummary(view: JobView): string {
  const kind = kindOf(view);
  if (kind === 'provision') return `Tenant ${view.tenant.slug} is live at ${view.tenant.tenantUrl}`;
  return kindDoneWords(kind, view.tenant.slug);
}

function rollbackSummary(view: JobView): string {
  const undone = view.steps.filter((s) => s.state === 'compensated').length;
  const failed = view.steps.filter((s) => s.state === 'compensation_failed').map((s) => s.label);
  const byHand = view.steps.filter((s) => s.state === 'overridden').map((s) => s.label);
  const manual = byHand.length > 0 ? ` Done by hand, so not undone: ${byHand.join(', ')}.` : '';
  if (failed.length > 0) {
    return `Rollback of ${view.tenant.slug} stopped: ${failed.join(', ')} could not be undone (${undone} undone); fix the cause and retry the rollback.${manual}`;
  }
  return `Rollback of ${view.tenant.slug} finished: ${undone} step${undone === 1 ? '' : 's'} undone.${manual}`;
}
