/** Plain words for states and times, shared by every page. */
import type { JobStatus } from '../../domain/job.ts';

export const STATUS_WORDS: Readonly<Record<JobStatus, string>> = {
  running: 'Running',
  awaiting_approval: 'Needs approval',
  awaiting_input: 'Needs input',
  failed: 'Failed',
  live: 'Live',
  cancelled: 'Cancelled',
  rejected: 'Rejected',
  rolling_back: 'Rolling back',
  rolled_back: 'Rolled back',
  rollback_failed: 'Rollback failed',
};

/** "2026-12-04 14:02 UTC": one unambiguous form for every reader. */
export function when(at: Date | number | undefined): string {
  if (at === undefined) return '—';
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "850 ms", "12 s", "3 min 20 s", "2 h 5 min". */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}
