/**
 * Keeps the durable record in step with the live state: after each batch of
 * events it saves the batch's audit entries (one insert), then the jobs' views
 * and tenant statuses (view-sync.ts: one writer per job at a time, so several
 * recorder processes never put an old view on top of a newer one; the batch's
 * views in one write). Re-processing a batch is harmless: audit ids are
 * derived from stream ids and views only move forward.
 */
import type { AuditEntry } from '../domain/audit.ts';
import type { JobEvent } from '../domain/events.ts';
import type { JobView } from '../domain/job-view.ts';
import { redactText } from '../domain/redact.ts';
import type { JobStore } from '../ports/store.ts';
import { jobBatches, type Sources } from './job-batches.ts';
import type { StreamEntry } from './stream-consumer.ts';
import type { ViewSync } from './view-sync.ts';

export async function recordEntries(deps: Sources & { store: JobStore; views: ViewSync }, entries: readonly StreamEntry[]): Promise<void> {
  const batches = await jobBatches(deps, entries);
  const audit: AuditEntry[] = batches.flatMap(({ view, entries: e }) => e.map((x) => auditEntry(x.id, x.event, view)));
  await deps.store.appendAudit(audit);
  // Views after the batch's audit, and only views this recorder has seen every event of: a stored view at
  // seq N means the audit up to N is stored. A view ahead of the batch is left to the batch holding the rest.
  await deps.views.saveAll(batches.filter((b) => b.seenAll).map((b) => b.view));
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
