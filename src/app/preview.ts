/**
 * The dry run of a provisioning request: the same intake parsing and job
 * definition `provision` makes, then each step type's own plan composed along
 * the graph. It reads only the manifests and configuration: no job is stored,
 * nothing is queued, no outside system is asked anything. The CLI calls it
 * without starting any server; the service, the Slack modal and the admin
 * page call it through ProvisioningService.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { parseIntake, type TenantSettings } from '../domain/intake.ts';
import { buildJobDefinition, type InputCatalogue, type JobDefinition } from '../domain/job-definition.ts';
import { planNamed } from '../domain/plan.ts';
import type { Identity } from '../domain/policy.ts';
import { composePreview, type JobPreview, type StepPlan } from '../domain/preview.ts';
import type { Manifests } from '../manifests/load.ts';
import type { Placement } from '../ports/step-services.ts';
import type { PlanContext } from '../steps/step.ts';

/** What a step type offers the preview: its config bound, then planned (every registered StepType has it). */
export type Planners = ReadonlyMap<string, { bind(rawInput: unknown): { plan(context: PlanContext): StepPlan } }>;

export type PreviewDeps = {
  manifests: Manifests;
  settings: TenantSettings;
  catalogue: InputCatalogue;
  planners: Planners;
  placement: Placement;
  now: Date;
};

/** The preview of what provisioning this intake would do; bad input is refused exactly as `provision` refuses it. */
export function previewRequest(raw: unknown, who: Pick<Identity, 'door' | 'id' | 'name'>, deps: PreviewDeps): JobPreview {
  const requested = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? { ...raw, requestedBy: who.name } : raw;
  const parsed = parseIntake(requested, deps.manifests.plans, deps.now);
  if (!parsed.ok) throw new InvalidInputError(parsed.errors);
  const plan = planNamed(deps.manifests.plans, parsed.intake.plan);
  if (!plan) throw new InvalidInputError([{ field: 'plan', message: `unknown plan "${parsed.intake.plan}"` }]);
  const built = buildJobDefinition({
    intake: parsed.intake,
    plan,
    planId: parsed.intake.plan,
    pipeline: deps.manifests.pipeline.steps,
    settings: deps.settings,
    catalogue: deps.catalogue,
    requester: { door: who.door, id: who.id },
    now: deps.now,
    residencyRegions: deps.manifests.plans.residencyRegions,
  });
  if (!built.ok) throw new InvalidInputError(built.problems);
  return previewDefinition(built.definition, deps);
}

/**
 * The preview of a stored job, from its definition (resolved configs and
 * creation time): the same answer every time, so the admin page shows the
 * plan the job was started with.
 */
export function previewDefinition(definition: JobDefinition, deps: Pick<PreviewDeps, 'planners' | 'placement' | 'manifests'>): JobPreview {
  const at = new Date(definition.createdAt);
  return composePreview(definition, (step) => {
    const type = deps.planners.get(step.type);
    if (type === undefined) return { summary: `Unknown step type "${step.type}": nothing can be planned`, resources: [] };
    const context: PlanContext = {
      stepId: step.id,
      tenant: definition.tenant,
      intake: definition.intake,
      placement: deps.placement,
      seeds: deps.manifests.seeds,
      at,
    };
    return type.bind(step.input).plan(context);
  });
}
