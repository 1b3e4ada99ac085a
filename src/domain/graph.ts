// The provisioning pipeline: a DAG of steps declared in manifests/pipeline.yaml.
// This file owns its shape and the rules that keep it runnable (no cycles, no
// waiting on steps that never block); the engine only ever sees a checked graph.
import { z } from 'zod';

// Step ids become MongoDB keys and parts of BullMQ job ids, so no dots or colons.
export const StepIdSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, {
  error: 'Step ids are lowercase letters, digits, "_" and "-", at most 40 characters, starting with a letter (e.g. feature_flags)',
});

export const RetryPolicySchema = z.strictObject({
  attempts: z.int().min(1).max(20).default(3),
  // prefault (not default) so each backoff field gets its own default.
  backoff: z
    .strictObject({
      type: z.enum(['exponential', 'fixed']).default('exponential'),
      delayMs: z.int().nonnegative().default(1000),
      jitter: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
});

export const PipelineStepSchema = z.strictObject({
  id: StepIdSchema,
  type: z.string().min(1),
  description: z.string().optional(),
  /** What the customer's status page calls this step ("Your workspace database"); steps without one are not shown there. */
  milestone: z.string().trim().min(1).max(60).optional(),
  needs: z.array(StepIdSchema).default([]),
  criticality: z.enum(['blocking', 'notification']).default('blocking'),
  retry: RetryPolicySchema.prefault({}),
  /** Limit for a single call of the step's run/check. */
  timeoutMs: z.int().positive().default(30_000),
  /** Total time an asynchronous step may keep polling before it fails. */
  pollTimeoutMs: z.int().positive().default(600_000),
  config: z.record(z.string(), z.unknown()).default({}),
});

export const PipelineManifestSchema = z.strictObject({
  version: z.literal(1),
  steps: z.array(PipelineStepSchema).min(1),
});

export type RetryPolicy = z.output<typeof RetryPolicySchema>;
export type PipelineStep = z.output<typeof PipelineStepSchema>;
export type PipelineManifest = z.output<typeof PipelineManifestSchema>;

export type GraphProblem = { path: (string | number)[]; message: string };

type StepShape = Pick<PipelineStep, 'id' | 'needs' | 'criticality'>;
/** What ordering needs to know of a step: its id and what it needs. */
type Node = { id: string; needs: readonly string[] };

/** Every rule that makes a step graph unrunnable, each pointing into the manifest. */
export function checkGraph(steps: readonly StepShape[]): GraphProblem[] {
  return [...duplicateIds(steps), ...badNeeds(steps), ...cycles(steps)];
}

function duplicateIds(steps: readonly StepShape[]): GraphProblem[] {
  const firstIndex = new Map<string, number>();
  const problems: GraphProblem[] = [];
  steps.forEach((step, index) => {
    const first = firstIndex.get(step.id);
    if (first === undefined) firstIndex.set(step.id, index);
    else problems.push({ path: ['steps', index, 'id'], message: `duplicate step id "${step.id}" (first used by steps[${first}])` });
  });
  return problems;
}

function badNeeds(steps: readonly StepShape[]): GraphProblem[] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const known = [...byId.keys()].join(', ');
  const problems: GraphProblem[] = [];
  steps.forEach((step, index) => {
    step.needs.forEach((need, needIndex) => {
      const path = ['steps', index, 'needs', needIndex];
      const needed = byId.get(need);
      if (need === step.id) {
        problems.push({ path, message: `step "${step.id}" needs itself; remove "${need}" from its needs` });
      } else if (!needed) {
        problems.push({ path, message: `unknown step "${need}" (known: ${known})` });
      } else if (step.criticality === 'blocking' && needed.criticality === 'notification') {
        problems.push({
          path,
          message: `blocking step "${step.id}" needs notification step "${need}"; notification steps never block, so nothing may wait on them (make "${need}" blocking or drop the need)`,
        });
      }
    });
  });
  return problems;
}

/** One problem per back edge found by a depth-first walk along `needs`, in manifest order. */
function cycles(steps: readonly StepShape[]): GraphProblem[] {
  const indexOf = new Map(steps.map((step, index) => [step.id, index]));
  const state = new Map<string, 'visiting' | 'done'>();
  const trail: string[] = [];
  const problems: GraphProblem[] = [];

  const visit = (index: number): void => {
    const step = steps[index];
    if (!step) return;
    state.set(step.id, 'visiting');
    trail.push(step.id);
    step.needs.forEach((need, needIndex) => {
      const target = indexOf.get(need);
      if (target === undefined || need === step.id) return; // reported by badNeeds
      if (state.get(need) === 'visiting') {
        const loop = [...trail.slice(trail.indexOf(need)), need];
        problems.push({
          path: ['steps', index, 'needs', needIndex],
          message: `cycle: ${loop.join(' → ')} (each step needs the next; break one of these needs)`,
        });
      } else if (!state.has(need)) {
        visit(target);
      }
    });
    trail.pop();
    state.set(step.id, 'done');
  };

  steps.forEach((step, index) => {
    if (!state.has(step.id)) visit(index);
  });
  return problems;
}

/** Reverse edges: for every step, the steps that need it (manifest order). */
export function dependentsOf(steps: readonly Node[]): Map<string, string[]> {
  const dependents = new Map<string, string[]>(steps.map((step) => [step.id, []]));
  for (const step of steps) {
    for (const need of step.needs) dependents.get(need)?.push(step.id);
  }
  return dependents;
}

/**
 * Step ids in an order where every step comes after what it needs. Among steps
 * that are ready at the same time, manifest order wins, so the order is stable.
 */
export function topologicalOrder(steps: readonly Node[]): string[] {
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < steps.length) {
    const next = steps.find((step) => !placed.has(step.id) && step.needs.every((need) => placed.has(need)));
    if (!next) throw new Error(unorderableMessage(steps, placed));
    placed.add(next.id);
    order.push(next.id);
  }
  return order;
}

function unorderableMessage(steps: readonly Node[], placed: ReadonlySet<string>): string {
  const stuck = [...new Set(steps.filter((step) => !placed.has(step.id)).map((step) => step.id))];
  const which = stuck.length > 0 ? `steps ${stuck.join(', ')}` : 'the steps (an id is used twice)';
  return `Cannot order ${which}: a step needs an unknown step, needs itself, is in a cycle or repeats an id; run checkGraph on the manifest first`;
}

/** Steps grouped by depth (0 = needs nothing); steps in one level can run in parallel. */
export function levels(steps: readonly Node[]): string[][] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const depth = new Map<string, number>();
  for (const id of topologicalOrder(steps)) {
    const needs = byId.get(id)?.needs ?? [];
    depth.set(id, needs.length === 0 ? 0 : 1 + Math.max(...needs.map((need) => depth.get(need) ?? 0)));
  }
  const grouped: string[][] = [];
  for (const step of steps) {
    const level = depth.get(step.id) ?? 0;
    grouped[level] = [...(grouped[level] ?? []), step.id];
  }
  return grouped;
}
