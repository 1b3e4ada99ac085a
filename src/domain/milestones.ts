/**
 * A job as its customer sees it: the milestones the pipeline names (several
 * steps may share one), each in one of a few plain states. Nothing internal
 * crosses this line: no ids, errors, people, reasons or secrets — only what
 * is waiting on the customer, in the words the step used to ask for it.
 */
import type { JobView, StepView } from './job-view.ts';
import type { StepState } from './job.ts';

export type MilestoneState = 'not_started' | 'in_progress' | 'waiting_for_you' | 'in_review' | 'delayed' | 'done';

export type Milestone = { name: string; state: MilestoneState; waitingFor?: string };

export type CustomerProgress = {
  companyName: string;
  milestones: Milestone[];
  liveUrl: string | undefined;
  /** Cancelled, rejected or rolled back: the customer is told setup is paused, not why. */
  stopped: boolean;
};

const DONE: ReadonlySet<StepState> = new Set(['succeeded', 'overridden']);
const STARTED: ReadonlySet<StepState> = new Set(['ready', 'running', 'succeeded', 'overridden', 'waiting_approval', 'waiting_input', 'failed']);

/** The most telling state wins: the customer's turn, then a delay, then review, then work under way. */
function milestoneState(steps: readonly StepView[]): MilestoneState {
  if (steps.every((s) => DONE.has(s.state))) return 'done';
  if (steps.some((s) => s.state === 'waiting_input')) return 'waiting_for_you';
  if (steps.some((s) => s.state === 'failed')) return 'delayed';
  if (steps.some((s) => s.state === 'waiting_approval')) return 'in_review';
  if (steps.some((s) => STARTED.has(s.state))) return 'in_progress';
  return 'not_started';
}

export function customerProgress(view: JobView): CustomerProgress {
  const groups = new Map<string, StepView[]>();
  // Notification steps (emails, notices) are ours to worry about, never a customer's milestone.
  for (const step of view.steps) {
    if (step.milestone === undefined || step.criticality === 'notification') continue;
    groups.set(step.milestone, [...(groups.get(step.milestone) ?? []), step]);
  }
  const milestones = [...groups].map(([name, steps]): Milestone => {
    const state = milestoneState(steps);
    const asking = steps.find((s) => s.state === 'waiting_input')?.waitingFor;
    return state === 'waiting_for_you' && asking ? { name, state, waitingFor: asking } : { name, state };
  });
  const stopped = ['cancelled', 'rejected', 'rolling_back', 'rolled_back', 'rollback_failed'].includes(view.status);
  return { companyName: view.tenant.companyName, milestones, liveUrl: view.status === 'live' ? view.tenant.tenantUrl : undefined, stopped };
}
