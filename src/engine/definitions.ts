/** Job definitions are immutable once created, so each process keeps the ones it has read. */
import { parseJobDefinition, type JobDefinition } from '../domain/job-definition.ts';
import type { JobStateStore } from './job-state.ts';

const MAX_CACHED = 5000;

export class DefinitionCache {
  private readonly state: JobStateStore;
  private readonly cache = new Map<string, JobDefinition>();

  constructor(state: JobStateStore) {
    this.state = state;
  }

  async get(jobId: string): Promise<JobDefinition | null> {
    const hit = this.cache.get(jobId);
    if (hit) return hit;
    const text = await this.state.definition(jobId);
    if (text === null) return null;
    const definition = parseJobDefinition(text);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value ?? '');
    this.cache.set(jobId, definition);
    return definition;
  }
}
