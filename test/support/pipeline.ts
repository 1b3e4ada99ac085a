/**
 * Test pipelines built from code instead of inline YAML: each step a sandbox
 * step whose config is checked against the sandbox step's own input schema, so
 * a misspelt option fails the typecheck instead of the app's start.
 * Configs may hold `${tenant.…}`-style placeholders: they are strings like any other.
 */
import { stringify } from 'yaml';
import type { z } from 'zod';
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
