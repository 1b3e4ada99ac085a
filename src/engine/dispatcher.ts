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
import type { StepJobData } from './step-records.ts';

/** `attemptsBefore`: attempts made before the step job existed (a carried step's), so exponential backoff goes on growing. */
export function retryOptions(step: JobStepDefinition, phase: Release['phase'], attemptsBefore = 0): JobsOptions {
  const { attempts, backoff } = step.retry;
  const delay = backoff.type === 'exponential' ? backoff.delayMs * 2 ** attemptsBefore : backoff.delayMs;
  return {
    attempts: phase === 'compensate' ? Math.max(attempts, 3) : attempts,
    backoff: { type: backoff.type, delay, jitter: backoff.jitter },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/**
 * A carried step handed back to the queue: after `delayMs`, with the attempts it has used already (they
 * count), and `takenOver` when the worker carrying it stopped mid-step (so it says it was picked up again).
 */
export type HandBack = { delayMs: number; attemptsUsed: number; takenOver?: boolean };

function handedBack(handBack: HandBack | undefined): Pick<StepJobData, 'attemptsBefore' | 'takenOver'> {
  if (!handBack) return {};
  return { ...(handBack.attemptsUsed > 0 ? { attemptsBefore: handBack.attemptsUsed } : {}), ...(handBack.takenOver ? { takenOver: true } : {}) };
}

/** Queues released steps with deterministic ids: queueing one twice is a no-op. */
export async function queueReleases(queue: Queue, definition: JobDefinition, releases: readonly Release[], handBack?: HandBack): Promise<void> {
  const jobs: { name: string; data: StepJobData; opts: JobsOptions }[] = [];
  for (const { carried: _, ...release } of releases) {
    const step = definition.steps.find((s) => s.id === release.stepId);
    if (!step) continue;
    jobs.push({
      name: release.phase,
      data: { jobId: definition.jobId, ...release, ...handedBack(handBack) },
      opts: {
        ...retryOptions(step, release.phase, handBack?.attemptsUsed),
        ...(handBack?.delayMs ? { delay: handBack.delayMs } : {}),
        jobId: queueJobId(definition.jobId, release),
      },
    });
  }
  if (jobs.length > 0) await queue.addBulk(jobs);
}

export async function dispatchReleases(queue: Queue, definitions: DefinitionCache, entries: readonly StreamEntry[]): Promise<void> {
  for (const { event } of entries) {
    // A carried step is its finishing worker's, which hands it back to the queue if it cannot run it.
    const released = event.released?.filter((r) => !r.carried) ?? [];
    if (released.length === 0) continue;
    const definition = await definitions.get(event.jobId);
    if (definition) await queueReleases(queue, definition, released);
  }
}
