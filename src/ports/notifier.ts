/** Whoever is told as jobs move: the Slack notifier, which edits each job's #onboarding message (the CLI reads the event stream itself). */
import type { JobEvent } from '../domain/events.ts';
import type { JobView } from '../domain/job-view.ts';

export interface JobNotifier {
  /** Called after the record is saved, with the events in order; must not throw into the engine. */
  jobChanged(view: JobView, events: readonly JobEvent[]): Promise<void>;
}
