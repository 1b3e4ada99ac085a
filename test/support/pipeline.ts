/**
 * Test pipelines built from code instead of inline YAML: each step a sandbox
 * step whose config is checked against the sandbox step's own input schema, so
 * a misspelt option fails the typecheck instead of the app's start.
 * Configs may hold `${tenant.…}`-style placeholders: they are strings like any other.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import type { PipelineStepSchema } from '../../src/domain/graph.ts';
import type { SandboxConfig } from '../../src/steps/sandbox.ts';

type PipelineStepInput = z.input<typeof PipelineStepSchema>;

/** How a step sits in the graph and how the engine treats it, as pipeline.yaml writes it. */
export type StepOptions = Pick<PipelineStepInput, 'needs' | 'retry' | 'criticality' | 'timeoutMs' | 'pollTimeoutMs'>;

export type SandboxStep = StepOptions & { id: string; type: 'sandbox'; config: SandboxConfig };

export function sandbox(id: string, config: SandboxConfig = {}, options: StepOptions = {}): SandboxStep {
  return { id, type: 'sandbox', ...options, config };
}

/** The pipeline.yaml body running these steps, for startTestApp's `pipeline`. */
export function pipelineOf(...steps: readonly SandboxStep[]): string {
  return stringify({ version: 1, steps });
}

const RepoPipeline = z.object({
  steps: z.array(z.looseObject({ id: z.string(), needs: z.array(z.string()).optional() })),
});

/**
 * The repository's own pipeline.yaml cut down to these steps, their configs as production has them
 * (needs on steps left out are dropped), for tests that want real integrations without all of them.
 */
export function repoPipelineOnly(...ids: readonly string[]): string {
  const { steps } = RepoPipeline.parse(parse(readFileSync(join(import.meta.dirname, '../../manifests/pipeline.yaml'), 'utf8')));
  const kept = steps.filter((step) => ids.includes(step.id)).map((step) => ({ ...step, needs: (step.needs ?? []).filter((id) => ids.includes(id)) }));
  const missing = ids.filter((id) => !kept.some((step) => step.id === id));
  if (missing.length > 0) throw new Error(`manifests/pipeline.yaml has no step ${missing.join(', ')}`);
  return stringify({ version: 1, steps: kept });
}
