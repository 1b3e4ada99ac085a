/**
 * Words for people: how refusals and answers name what someone typed, steps
 * and their states. One place, so the CLI, Slack and the web say the same.
 */
import { clockTime, dayAndMonth, dayMonthYear } from './calendar.ts';
import type { JobStatus, StepState } from './job.ts';

/** What someone typed, quoted back to them: cut, so 10 KB pasted by mistake does not drown the answer. */
export function typedBack(text: string, max = 60): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** "no job found" → "No job found." */
export function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}`;
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

const STEP_STATE: Record<StepState, string> = {
  pending: 'waiting for earlier steps',
  ready: 'queued',
  running: 'running',
  waiting_approval: 'waiting for approval',
  waiting_input: 'waiting for input',
  succeeded: 'done',
  failed: 'failed',
  overridden: 'done by hand',
  compensating: 'being undone',
  compensated: 'undone',
  compensation_failed: 'not undone (the undo failed)',
};

/** "running", "done by hand": a step's state as people say it. */
export function stepStateWords(state: StepState): string {
  return STEP_STATE[state];
}

const JOB_STATUS: Record<JobStatus, string> = {
  running: 'in progress',
  awaiting_approval: 'waiting for approval',
  awaiting_input: 'waiting for customer input',
  failed: 'stopped on a failure',
  live: 'live',
  cancelled: 'cancelled',
  rejected: 'rejected',
  rolling_back: 'being rolled back',
  rolled_back: 'rolled back',
  rollback_failed: 'in a rollback that failed',
};

/** "in progress", "rolled back": a job's status as people say it. */
export function jobStatusWords(status: JobStatus): string {
  return JOB_STATUS[status];
}

/** "14:02 on 25 November", in the server's time zone like the audit trail. */
export function whenWords(epochMs: number): string {
  return `${clockTime(epochMs)} on ${dayAndMonth(epochMs)}`;
}

/** "31 December 2026", in the server's time zone like the audit trail. */
export function dayWords(epochMs: number): string {
  return dayMonthYear(epochMs);
}

/** "database, seed data and billing" */
export function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
