/**
 * Turns a validated intake, its plan and the pipeline into the immutable
 * definition of one job: every step's config resolved and checked against
 * its type's input schema before anything runs, and an approval gate in
 * front when the plan's rules (or the lifecycle request) ask for one. A job
 * has a kind: provisioning makes the tenant, the lifecycle kinds change one
 * that exists (its intake is the tenant's, with the plan it moves to).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { dependentsOf, RetryPolicySchema, type PipelineStep, type RetryPolicy } from './graph.ts';
import { deriveTenant, type DerivedTenant, type Intake, type TenantSettings } from './intake.ts';
import type { Criticality } from './job.ts';
import { JOB_KINDS, KIND_WORDS, type JobKind, type LifecycleKind } from './job-kind.ts';
import type { Plan } from './plan.ts';
import type { Requester } from './policy.ts';
import { resolveTemplates } from './template.ts';

export const APPROVAL_GATE_ID = 'approval_gate';

export type JobStepDefinition = {
  id: string;
  type: string;
  description?: string;
  /** The customer-facing milestone this step is part of (status page). */
  milestone?: string;
  needs: string[];
  dependents: string[];
  criticality: Criticality;
  retry: RetryPolicy;
  timeoutMs: number;
  pollTimeoutMs: number;
  /** Resolved config, already valid for the step type. */
  input: unknown;
  /** Outputs the step type declares worth showing people once done: output key → label. */
  facts?: Record<string, string>;
};

/** What a lifecycle job was asked to do, beyond its kind: step configs read it as `${request.…}`. */
export type LifecycleRequest = {
  /** Makes the job id: the same request twice is one job (a billing event id, a Slack modal, a person's request id). */
  requestKey: string;
  reason: string;
  /** Who or what asked, in words for the trail: "Dana in Slack", "Stripe invoice.payment_failed". */
  source: string;
  /** The plan before the job, and after it (the same unless the plan changes). */
  fromPlan: string;
  toPlan: string;
  /** Values particular to the kind (the entitlements to apply, the overage to approve…), checked by the steps reading them. */
  details: Record<string, unknown>;
};

export type JobDefinition = {
  jobId: string;
  /** Absent on jobs stored before kinds existed: those are provisioning jobs (see kindOf). */
  kind?: JobKind;
  /** What a lifecycle job was asked to do; absent on provisioning jobs. */
  request?: LifecycleRequest;
  createdAt: string;
  /** Who asked for the job, on which door (absent on jobs made before it was recorded). */
  requester?: Requester;
  intake: z.output<typeof StoredIntakeSchema>;
  tenant: DerivedTenant;
  steps: JobStepDefinition[];
};

/** One job per CRM opportunity: the same deal submitted twice lands on the same job. */
export function jobIdFor(intake: Pick<Intake, 'slug' | 'crmOpportunityId'>): string {
  const hash = createHash('sha256').update(intake.crmOpportunityId).digest('hex').slice(0, 10);
  return `${intake.slug}-${hash}`;
}

/**
 * One job per lifecycle request: the same tenant, kind and request key always
 * give the same id, so a request delivered twice (a retried webhook, a double
 * submit) lands on the job made the first time.
 */
export function lifecycleJobIdFor(slug: string, kind: LifecycleKind, requestKey: string): string {
  const hash = createHash('sha256').update(`${kind}\n${slug}\n${requestKey}`).digest('hex').slice(0, 10);
  return `${slug}-${KIND_WORDS[kind].short}-${hash}`;
}

/** What a job definition needs of each step type: its input schema, and the outputs it declares worth showing. */
export type InputCatalogue = ReadonlyMap<string, { input: z.ZodType; facts?: Readonly<Record<string, string>> }>;

export type BuildResult = { ok: true; definition: JobDefinition } | { ok: false; problems: { field: string; message: string }[] };

export function buildJobDefinition(opts: {
  intake: Intake;
  requester?: Requester;
  plan: Plan;
  planId: string;
  pipeline: readonly PipelineStep[];
  settings: TenantSettings;
  catalogue: InputCatalogue;
  now: Date;
  /** Data residency → AWS region (plans.yaml residencyRegions); required so no door forgets where a tenant goes. */
  residencyRegions: Readonly<Record<string, string>> | undefined;
  /** For a lifecycle job: its kind, the request, and why a person must approve it first (none: no gate). */
  lifecycle?: { kind: LifecycleKind; request: LifecycleRequest; approvalReasons: readonly string[] };
}): BuildResult {
  const derived = deriveTenant(opts.intake, opts.plan, opts.settings, opts.residencyRegions);
  const { lifecycle } = opts;
  const tenant = lifecycle ? { ...derived, approvalReasons: [...lifecycle.approvalReasons] } : derived;
  const scope = {
    intake: opts.intake,
    tenant,
    plan: { ...opts.plan, id: opts.planId },
    settings: opts.settings.pipeline ?? {},
    ...(lifecycle ? { request: { kind: lifecycle.kind, ...lifecycle.request } } : {}),
  };
  const problems: { field: string; message: string }[] = [];
  const steps: PipelineStep[] = withApprovalGate(opts.pipeline, tenant.approvalReasons);
  const dependents = dependentsOf(steps);
  const defined: JobStepDefinition[] = [];
  for (const step of steps) {
    const input = resolveInput(step, scope, opts.catalogue, problems);
    defined.push({
      id: step.id,
      type: step.type,
      ...(step.description === undefined ? {} : { description: step.description }),
      ...(step.milestone === undefined ? {} : { milestone: step.milestone }),
      needs: [...step.needs],
      dependents: dependents.get(step.id) ?? [],
      criticality: step.criticality,
      retry: step.retry,
      timeoutMs: step.timeoutMs,
      pollTimeoutMs: step.pollTimeoutMs,
      input,
      ...factsOf(opts.catalogue, step.type),
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  const definition: JobDefinition = {
    jobId: lifecycle ? lifecycleJobIdFor(tenant.slug, lifecycle.kind, lifecycle.request.requestKey) : jobIdFor(opts.intake),
    kind: lifecycle?.kind ?? 'provision',
    ...(lifecycle ? { request: structuredClone(lifecycle.request) } : {}),
    createdAt: opts.now.toISOString(),
    ...(opts.requester ? { requester: { ...opts.requester } } : {}),
    intake: opts.intake,
    tenant,
    steps: defined,
  };
  return { ok: true, definition };
}

function resolveInput(
  step: PipelineStep,
  scope: Record<string, unknown>,
  catalogue: InputCatalogue,
  problems: { field: string; message: string }[],
): unknown {
  const type = catalogue.get(step.type);
  if (!type) {
    problems.push({ field: `steps.${step.id}`, message: `unknown step type "${step.type}"` });
    return {};
  }
  try {
    const parsed = type.input.safeParse(resolveTemplates(step.config, scope));
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      problems.push({ field: `steps.${step.id}.config.${issue.path.join('.')}`, message: issue.message });
    }
  } catch (err) {
    problems.push({ field: `steps.${step.id}.config`, message: err instanceof Error ? err.message : String(err) });
  }
  return {};
}

function factsOf(catalogue: InputCatalogue, type: string): { facts?: Record<string, string> } {
  const facts = catalogue.get(type)?.facts;
  return facts && Object.keys(facts).length > 0 ? { facts: { ...facts } } : {};
}

/** Puts an approval gate before every root of the graph when the deal needs one. */
function withApprovalGate(pipeline: readonly PipelineStep[], reasons: readonly string[]): PipelineStep[] {
  if (reasons.length === 0) return [...pipeline];
  const gate: PipelineStep = {
    id: APPROVAL_GATE_ID,
    type: 'approval',
    description: 'Approval',
    milestone: 'Contract review',
    needs: [],
    criticality: 'blocking',
    retry: { attempts: 1, backoff: { type: 'fixed', delayMs: 0, jitter: 0 } },
    timeoutMs: 10_000,
    pollTimeoutMs: 10_000,
    config: { reasons: [...reasons] },
  };
  const gated = pipeline.map((s) => (s.needs.length === 0 ? { ...s, needs: [APPROVAL_GATE_ID] } : s));
  return [gate, ...gated];
}

const StoredIntakeSchema = z.object({
  companyName: z.string(),
  slug: z.string(),
  adminEmail: z.string(),
  plan: z.string(),
  contractStartDate: z.string(),
  contractValue: z.number(),
  dataResidency: z.string(),
  featureOverrides: z.record(z.string(), z.boolean()),
  crmOpportunityId: z.string(),
  requestedBy: z.string(),
});

const DerivedTenantSchema = z.object({
  tenantId: z.string(),
  slug: z.string(),
  companyName: z.string(),
  planId: z.string(),
  databaseName: z.string(),
  isolation: z.enum(['shared', 'dedicated']),
  dnsName: z.string(),
  tenantUrl: z.string(),
  secretPath: z.string(),
  billingMetadata: z.record(z.string(), z.string()),
  features: z.record(z.string(), z.boolean()),
  seedVersion: z.string(),
  approvalReasons: z.array(z.string()),
  region: z.string().optional(),
});

const StoredStepSchema = z.object({
  id: z.string(),
  type: z.string(),
  description: z.string().optional(),
  milestone: z.string().optional(),
  needs: z.array(z.string()),
  dependents: z.array(z.string()),
  criticality: z.enum(['blocking', 'notification']),
  retry: RetryPolicySchema,
  timeoutMs: z.number(),
  pollTimeoutMs: z.number(),
  input: z.unknown(),
  facts: z.record(z.string(), z.string()).optional(),
});

const LifecycleRequestSchema = z.object({
  requestKey: z.string(),
  reason: z.string(),
  source: z.string(),
  fromPlan: z.string(),
  toPlan: z.string(),
  details: z.record(z.string(), z.unknown()),
});

const JobDefinitionSchema = z.object({
  jobId: z.string(),
  kind: z.enum(JOB_KINDS).optional(),
  request: LifecycleRequestSchema.optional(),
  createdAt: z.string(),
  requester: z.object({ door: z.enum(['slack', 'web', 'cli', 'api']), id: z.string() }).optional(),
  intake: StoredIntakeSchema,
  tenant: DerivedTenantSchema,
  steps: z.array(StoredStepSchema),
});

/** Reads a stored definition back (from Redis or MongoDB), checking its shape. */
export function parseJobDefinition(text: string): JobDefinition {
  return JobDefinitionSchema.parse(JSON.parse(text));
}
