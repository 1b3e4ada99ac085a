/** Every step type the engine knows, in one list. A new integration adds one line here. */
import { approvalStep } from './approval.ts';
import { sandboxStep } from './sandbox.ts';
import type { StepType } from './step.ts';
import { webhookStep } from './webhook.ts';

const ALL: readonly StepType[] = [approvalStep, sandboxStep, webhookStep];

export const stepTypes: ReadonlyMap<string, StepType> = new Map(ALL.map((s) => [s.type, s]));
