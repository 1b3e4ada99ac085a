/** Whoever is told as jobs move: the Slack notifier, which edits each job's #onboarding message (the CLI reads the event stream itself). */
import type { PendingIntake } from '../domain/crm-deal.ts';
import type { JobEvent } from '../domain/events.ts';
import type { JobView } from '../domain/job-view.ts';

export interface JobNotifier {
  /** Called after the record is saved, with the events in order; must not throw into the engine. */
  jobChanged(view: JobView, events: readonly JobEvent[]): Promise<void>;
}

/** Whoever is told that a deal a CRM sent needs a person (Slack: a notice in #onboarding with "Complete in Slack"). */
export interface PendingIntakeNotices {
  /** Posts the notice; resolves with a reference to it, kept to update it later. Throws when it could not be posted. */
  post(pending: PendingIntake): Promise<string>;
  /** Updates the notice (at `ref`) to say who completed it and which tenant it became. */
  markCompleted(pending: PendingIntake, ref: string): Promise<void>;
}
