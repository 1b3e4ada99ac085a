/**
 * The audit trail as a non-engineer reads it: one plain line per fact, with
 * who, when and why. Stored entries are already redacted.
 */
import { clockTime, weekdayDate } from './calendar.ts';
import type { EventType } from './events.ts';

export type AuditEntry = {
  id: string;
  jobId: string;
  tenantSlug: string;
  companyName: string;
  at: Date;
  type: EventType;
  actor: string;
  stepId?: string;
  summary: string;
  reason?: string;
  error?: string;
  durationMs?: number;
};

/** Noise for a reader of the trail; kept in the store, shown with --verbose. */
const ROUTINE: ReadonlySet<EventType> = new Set(['step.started', 'step.polling']);

export function isRoutine(type: EventType): boolean {
  return ROUTINE.has(type);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** "09:14 DNS record acme.example.com created (1.2 s)" */
export function auditLine(entry: AuditEntry): string {
  const time = clockTime(entry.at);
  const duration = entry.durationMs !== undefined && entry.type !== 'step.failed' ? ` (${formatDuration(entry.durationMs)})` : '';
  return `${time} ${entry.summary}${duration}`;
}

/** Lines grouped under a date heading, oldest first. */
export function auditText(entries: readonly AuditEntry[], opts: { verbose?: boolean } = {}): string[] {
  const lines: string[] = [];
  let day = '';
  for (const entry of entries) {
    if (!opts.verbose && isRoutine(entry.type)) continue;
    const heading = weekdayDate(entry.at);
    if (heading !== day) {
      lines.push(heading);
      day = heading;
    }
    lines.push(`  ${auditLine(entry)}`);
  }
  return lines;
}
