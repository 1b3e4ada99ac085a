/** Redis key names, all under one prefix so tests (and tenants of the tool) never collide. */
import type { Release } from '../domain/actions.ts';

export type Keys = {
  prefix: string;
  jobState(jobId: string): string;
  definition(jobId: string): string;
  events(): string;
  /** Sorted set: jobs whose stored view may be behind their live state, scored by when it first fell behind (ms). */
  staleViews(): string;
  /** Held by the one recorder writing the job's view at the moment. */
  viewLock(jobId: string): string;
  sandbox(): string;
};

export function keysFor(prefix: string): Keys {
  return {
    prefix,
    jobState: (jobId) => `${prefix}:pj:${jobId}`,
    definition: (jobId) => `${prefix}:pjdef:${jobId}`,
    events: () => `${prefix}:events`,
    staleViews: () => `${prefix}:views:stale`,
    viewLock: (jobId) => `${prefix}:views:lock:${jobId}`,
    sandbox: () => `${prefix}:sandbox`,
  };
}

/** BullMQ job ids may not contain ":" or be all digits. */
export function queueJobId(jobId: string, release: Release): string {
  return `${jobId}__${release.stepId}__${release.phase === 'run' ? 'r' : 'c'}${release.ticket}`;
}

/** Reads releases out of script results and stored events (Lua encodes an empty list as {}). */
export function parseReleases(value: unknown): Release[] {
  if (!Array.isArray(value)) return [];
  const out: Release[] = [];
  for (const item of value) {
    if (item === null || typeof item !== 'object') continue;
    const stepId: unknown = Reflect.get(item, 'stepId');
    const ticket: unknown = Reflect.get(item, 'ticket');
    const phase: unknown = Reflect.get(item, 'phase');
    if (typeof stepId === 'string' && typeof ticket === 'number' && (phase === 'run' || phase === 'compensate')) {
      out.push(Reflect.get(item, 'carried') === true ? { stepId, ticket, phase, carried: true } : { stepId, ticket, phase });
    }
  }
  return out;
}
