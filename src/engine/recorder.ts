/**
 * Keeps the durable record in step with the live state: after each batch of
 * events it saves each job's view and its audit entries to the store, then
 * tells the notifier. Re-processing a batch is harmless: audit ids are
 * derived from stream ids and views only move forward.
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

export type RecorderDeps = {
  state: JobStateStore;
  definitions: DefinitionCache;
  store: JobStore;
  notifier: JobNotifier | undefined;
  onError(err: unknown): void;
};

export async function recordEntries(deps: RecorderDeps, entries: readonly StreamEntry[]): Promise<void> {
  const byJob = new Map<string, StreamEntry[]>();
  for (const entry of entries) {
    const list = byJob.get(entry.event.jobId) ?? [];
    list.push(entry);
    byJob.set(entry.event.jobId, list);
  }
  const audit: AuditEntry[] = [];
  const changed: { view: JobView; events: JobEvent[] }[] = [];
  for (const [jobId, jobEntries] of byJob) {
    const definition = await deps.definitions.get(jobId);
    const state = await deps.state.read(jobId);
    if (!definition || !state) continue;
    const view = buildJobView(definition, state);
    const events = jobEntries.map((e) => e.event);
    audit.push(...jobEntries.map((e) => auditEntry(e.id, e.event, view)));
    // The events that can complete a job (a notification step failing last completes it too).
    if (view.status === 'live' && events.some((e) => e.type === 'step.succeeded' || e.type === 'step.overridden' || e.type === 'step.failed')) {
      // One millisecond after the step that completed it, so the trail reads in order.
      const live = liveEvent(view, Math.max(...events.map((e) => e.at)) + 1);
      events.push(live);
      audit.push(auditEntry(`${jobId}-live`, live, view));
    }
    if (events.some((e) => e.type !== 'step.started' && e.type !== 'step.polling')) {
      await deps.store.setTenantStatus(view.tenant.slug, jobId, view.status);
    }
    changed.push({ view, events });
  }
  await deps.store.appendAudit(audit);
  // Views last: a stored view at seq N means the audit and tenant status up to N are stored too.
  for (const { view } of changed) await deps.store.saveView(view);
  for (const { view, events } of changed) {
    try {
      await deps.notifier?.jobChanged(view, events);
    } catch (err) {
      deps.onError(err); // a notifier never holds up the record or the job
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
