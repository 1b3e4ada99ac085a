/** Whoever follows jobs as they move (the terminal now, Slack's #onboarding later). */
import type { JobEvent } from '../domain/events.ts';
import type { JobView } from '../domain/job-view.ts';

export interface JobNotifier {
  /** Called after the record is saved, with the events in order; must not throw into the engine. */
  jobChanged(view: JobView, events: readonly JobEvent[]): Promise<void>;
}
