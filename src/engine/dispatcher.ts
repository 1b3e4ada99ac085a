/**
 * Turns "this step may go ahead" events into BullMQ jobs. The release was
 * decided atomically with the state change that caused it; queueing here,
 * with a deterministic job id, makes a crash between the two harmless.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Release } from '../domain/actions.ts';
import type { JobDefinition, JobStepDefinition } from '../domain/job-definition.ts';
import type { DefinitionCache } from './definitions.ts';
import { queueJobId } from './keys.ts';
import type { StreamEntry } from './stream-consumer.ts';
import type { StepJobData } from './step-worker.ts';

export function retryOptions(step: JobStepDefinition, phase: Release['phase']): JobsOptions {
  const { attempts, backoff } = step.retry;
  return {
    attempts: phase === 'compensate' ? Math.max(attempts, 3) : attempts,
    backoff: { type: backoff.type, delay: backoff.delayMs, jitter: backoff.jitter },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Queues released steps with deterministic ids: queueing one twice is a no-op. */
export async function queueReleases(queue: Queue, definition: JobDefinition, releases: readonly Release[]): Promise<void> {
  const jobs: { name: string; data: StepJobData; opts: JobsOptions }[] = [];
  for (const release of releases) {
    const step = definition.steps.find((s) => s.id === release.stepId);
    if (!step) continue;
    jobs.push({
      name: release.phase,
      data: { jobId: definition.jobId, ...release },
      opts: { ...retryOptions(step, release.phase), jobId: queueJobId(definition.jobId, release) },
    });
  }
  if (jobs.length > 0) await queue.addBulk(jobs);
}

export async function dispatchReleases(queue: Queue, definitions: DefinitionCache, entries: readonly StreamEntry[]): Promise<void> {
  for (const { event } of entries) {
    if (!event.released?.length) continue;
    const definition = await definitions.get(event.jobId);
    if (definition) await queueReleases(queue, definition, event.released);
  }
}
