/**
 * "A step is done: release what depended on it" is decided in two places: the
 * step worker's finish script, atomically in Redis (engine/lua.ts), and the
 * operators' plans in TypeScript (releasedWhenDone, used by override). One
 * table of cases holds both to the same answers.
 */
import { describe, expect, it } from 'vitest';
import { releasedWhenDone, type Release } from '../../src/domain/actions.ts';
import { ENGINE_ACTOR, type JobEvent } from '../../src/domain/events.ts';
import type { JobMode, JobSnapshot, StepSnapshot, StepState } from '../../src/domain/job.ts';
import { JOB_FIELD, stepField, transitionFields } from '../../src/engine/job-hash.ts';
import { appPerTest } from '../support/harness.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

type Step = { needs?: string[]; state?: StepState; ticket?: number; notification?: boolean };
type Case = {
  story: string;
  steps: Record<string, Step>;
  mode?: JobMode;
  /** The step that has just succeeded. */
  done: string;
  released: Release[];
  /** Each other step's state and unmet needs afterwards (only those named). */
  after: Record<string, { state: StepState; remaining: number }>;
};

const CASES: Case[] = [
  {
    story: 'a step with one need goes ahead when it is met',
    steps: { database: {}, dns: { needs: ['database'] } },
    done: 'database',
    released: [{ stepId: 'dns', ticket: 1, phase: 'run' }],
    after: { dns: { state: 'ready', remaining: 0 } },
  },
  {
    story: 'a step that needs two waits for the second',
    steps: { database: {}, secrets: {}, sso: { needs: ['database', 'secrets'] } },
    done: 'database',
    released: [],
    after: { sso: { state: 'pending', remaining: 1 } },
  },
  {
    story: 'the last of two needs met releases it',
    steps: { database: {}, secrets: { state: 'succeeded' }, sso: { needs: ['database', 'secrets'] } },
    done: 'database',
    released: [{ stepId: 'sso', ticket: 1, phase: 'run' }],
    after: { sso: { state: 'ready', remaining: 0 } },
  },
  {
    story: 'every dependent goes ahead at once, in the order the graph lists them',
    steps: { database: {}, seed_data: { needs: ['database'] }, secrets: { needs: ['database'] }, dns: { needs: ['database'] } },
    done: 'database',
    released: [
      { stepId: 'seed_data', ticket: 1, phase: 'run' },
      { stepId: 'secrets', ticket: 1, phase: 'run' },
      { stepId: 'dns', ticket: 1, phase: 'run' },
    ],
    after: { seed_data: { state: 'ready', remaining: 0 }, dns: { state: 'ready', remaining: 0 } },
  },
  {
    story: 'while a blocking step has failed, a step whose needs are met is held, not run',
    steps: { database: {}, billing: { state: 'failed' }, dns: { needs: ['database'] } },
    done: 'database',
    released: [],
    after: { dns: { state: 'pending', remaining: 0 } },
  },
  {
    story: 'a failed notification does not hold anything back',
    steps: { database: {}, notice: { state: 'failed', notification: true }, dns: { needs: ['database'] } },
    done: 'database',
    released: [{ stepId: 'dns', ticket: 1, phase: 'run' }],
    after: { dns: { state: 'ready', remaining: 0 } },
  },
  {
    story: 'in a cancelled job nothing new starts',
    steps: { database: {}, dns: { needs: ['database'] } },
    mode: 'cancelled',
    done: 'database',
    released: [],
    after: { dns: { state: 'pending', remaining: 0 } },
  },
  {
    story: 'a dependent done by hand already is not run again',
    steps: { database: {}, dns: { needs: ['database'], state: 'overridden' } },
    done: 'database',
    released: [],
    after: { dns: { state: 'overridden', remaining: 0 } },
  },
  {
    story: 'a dependent released before (its ticket moved on) goes ahead on the ticket after its last',
    steps: { database: {}, dns: { needs: ['database'], ticket: 2 } },
    done: 'database',
    released: [{ stepId: 'dns', ticket: 3, phase: 'run' }],
    after: { dns: { state: 'ready', remaining: 0 } },
  },
];

/** The job as the case has it, with the finishing step still running and each step's unmet needs counted. */
function snapshotOf(c: Case): JobSnapshot {
  const ids = Object.keys(c.steps);
  const stateOf = (id: string): StepState => (id === c.done ? 'running' : (c.steps[id]?.state ?? 'pending'));
  const steps = new Map<string, StepSnapshot>();
  for (const id of ids) {
    const needs = c.steps[id]?.needs ?? [];
    steps.set(id, {
      id,
      state: stateOf(id),
      ticket: c.steps[id]?.ticket ?? (id === c.done ? 1 : 0),
      remaining: needs.filter((n) => !['succeeded', 'overridden'].includes(stateOf(n))).length,
      criticality: c.steps[id]?.notification ? 'notification' : 'blocking',
      needs,
      dependents: ids.filter((d) => c.steps[d]?.needs?.includes(id)),
    });
  }
  const failedBlocking = [...steps.values()].filter((s) => s.state === 'failed' && s.criticality === 'blocking').length;
  return { mode: c.mode ?? 'forward', failedBlocking, seq: 3, steps };
}

/** The same job as the engine's hash holds it. */
function hashOf(job: JobSnapshot): Record<string, string | number> {
  const steps = [...job.steps.values()];
  const fields = transitionFields(
    job.mode,
    job.failedBlocking,
    steps.map((s) => ({ stepId: s.id, state: s.state, ticket: s.ticket, remaining: s.remaining })),
  );
  for (const s of steps) {
    fields[stepField('criticality', s.id)] = s.criticality;
    fields[stepField('dependents', s.id)] = JSON.stringify(s.dependents);
  }
  return { ...fields, [JOB_FIELD.seq]: job.seq };
}

function expectedOutcome(c: Case) {
  return { released: c.released, after: c.after };
}

describe('releasing the steps that depended on one just done', () => {
  const start = appPerTest();

  it.each(CASES)('in TypeScript: $story', (c) => {
    const job = snapshotOf(c);
    const { release, changes } = releasedWhenDone(job, c.done);
    const after = Object.fromEntries(
      Object.keys(c.after).map((id) => {
        const before = job.steps.get(id);
        const change = changes.find((ch) => ch.stepId === id);
        return [id, { state: change?.state ?? before?.state, remaining: change?.remaining ?? before?.remaining }];
      }),
    );
    expect({ released: release, after }).toEqual(expectedOutcome(c));
  });

  it.each(CASES)('in the finish script: $story', async (c) => {
    const app = await start({ pipeline: pipelineOf(sandbox('unused')), runWorkers: false });
    const jobId = `release-rule-${Math.random().toString(36).slice(2, 10)}`;
    const job = snapshotOf(c);
    await app.engine.redis.hset(app.engine.keys.jobState(jobId), hashOf(job));
    const event: JobEvent = { type: 'step.succeeded', jobId, stepId: c.done, phase: 'run', at: Date.now(), actor: ENGINE_ACTOR, summary: 'done' };

    const released = (await app.engine.state.finish(jobId, { stepId: c.done, ticket: 1, phase: 'run' }, 'succeeded', event, {}))?.released;

    const state = await app.engine.state.read(jobId);
    const after = Object.fromEntries(
      Object.keys(c.after).map((id) => [id, { state: state?.steps.get(id)?.state, remaining: state?.steps.get(id)?.remaining }]),
    );
    expect({ released, after }).toEqual(expectedOutcome(c));
  });
});
