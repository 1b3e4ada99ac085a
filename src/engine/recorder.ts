/**
 * Keeps the durable record in step with the live state: after each batch of
 * events it saves each job's audit entries, tenant status and view to the
 * store. Re-processing a batch is harmless: audit ids are derived from stream
 * ids and views only move forward. Notifiers follow the same batches in a
 * consumer group of their own, so a slow Slack never holds up the record.
 */
import type { AuditEntry } from '../domain/audit.ts';
import { ENGINE_ACTOR, type JobEvent } from '../domain/events.ts';
import { buildJobView, type JobView } from '../domain/job-view.ts';
import { redactText } from '../domain/redact.ts';
import type { JobNotifier } from '../ports/notifier.ts';
import type { JobStore } from '../ports/store.ts';
import type { DefinitionCache } from './definitions.ts';
import type { JobStateStore } from './job-state.ts';
import type { StreamEntry } from './stream-consumer.ts';

type Sources = { state: JobStateStore; definitions: DefinitionCache };

/** One job's share of a batch: its current view and its events, plus "is live" when this batch made it so. */
type JobBatch = { view: JobView; entries: { id: string; event: JobEvent }[] };

/** The events that can complete a job (a notification step failing last completes it too). */
const COMPLETING: ReadonlySet<JobEvent['type']> = new Set(['step.succeeded', 'step.overridden', 'step.failed']);

async function jobBatches(sources: Sources, entries: readonly StreamEntry[]): Promise<JobBatch[]> {
  const byJob = new Map<string, StreamEntry[]>();
  for (const entry of entries) byJob.set(entry.event.jobId, [...(byJob.get(entry.event.jobId) ?? []), entry]);
  const batches: JobBatch[] = [];
  for (const [jobId, jobEntries] of byJob) {
    const [definition, state] = await Promise.all([sources.definitions.get(jobId), sources.state.read(jobId)]);
    if (!definition || !state) continue;
    const view = buildJobView(definition, state);
    const withLive = [...jobEntries];
    // Only the batch holding the job's latest change made it live: a follower that lags (the notifier)
    // sees the job live while reading older events, and would announce it once per batch.
    if (view.status === 'live' && jobEntries.some((e) => COMPLETING.has(e.event.type) && e.event.seq === view.seq)) {
      // One millisecond after the step that completed it, so the trail reads in order.
      const at = Math.max(...jobEntries.map((e) => e.event.at)) + 1;
      withLive.push({ id: `${jobId}-live`, event: liveEvent(view, at) });
    }
    batches.push({ view, entries: withLive });
  }
  return batches;
}

export async function recordEntries(deps: Sources & { store: JobStore }, entries: readonly StreamEntry[]): Promise<void> {
  const batches = await jobBatches(deps, entries);
  const audit: AuditEntry[] = batches.flatMap(({ view, entries: e }) => e.map((x) => auditEntry(x.id, x.event, view)));
  await deps.store.appendAudit(audit);
  for (const { view, entries: e } of batches) {
    if (e.some((x) => x.event.type !== 'step.started' && x.event.type !== 'step.polling')) {
      await deps.store.setTenantStatus(view.tenant.slug, view.jobId, view.status);
    }
  }
  // Views last: a stored view at seq N means the audit and tenant status up to N are stored too.
  for (const { view } of batches) await deps.store.saveView(view);
}

/** Tells the notifier, job by job; one job's failure to notify does not stop the others. */
export async function notifyEntries(
  deps: Sources & { notifier: JobNotifier; onError(err: unknown): void },
  entries: readonly StreamEntry[],
): Promise<void> {
  for (const { view, entries: e } of await jobBatches(deps, entries)) {
    try {
      await deps.notifier.jobChanged(view, e.map((x) => x.event));
    } catch (err) {
      deps.onError(err);
    }
  }
}

function liveEvent(view: JobView, at: number): JobEvent {
  return {
    type: 'job.live',
    jobId: view.jobId,
    at,
    actor: ENGINE_ACTOR,
    summary: `Tenant ${view.tenant.slug} is live at ${view.tenant.tenantUrl}`,
  };
}

function auditEntry(id: string, event: JobEvent, view: JobView): AuditEntry {
  const entry: AuditEntry = {
    id: id.startsWith(view.jobId) ? id : `${view.jobId}:${id}`,
    jobId: view.jobId,
    tenantSlug: view.tenant.slug,
    companyName: view.tenant.companyName,
    at: new Date(event.at),
    type: event.type,
    actor: event.actor,
    summary: redactText(event.summary),
  };
  if (event.stepId !== undefined) entry.stepId = event.stepId;
  if (event.reason !== undefined) entry.reason = redactText(event.reason);
  if (event.error !== undefined) entry.error = redactText(event.error);
  if (event.durationMs !== undefined) entry.durationMs = event.durationMs;
  return entry;
}
