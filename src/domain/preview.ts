/**
 * The dry run of a whole job, the way `terraform plan` shows infrastructure:
 * what each step will create or change, where, with which key settings, and
 * what nobody can know until it exists. Each step type says its own part (its
 * `plan`); this file composes them along the graph with the approval reasons
 * and what will wait for the customer. Pure: nothing here touches a system.
 */
import { topologicalOrder } from './graph.ts';
import type { JobDefinition, JobStepDefinition } from './job-definition.ts';
import { KIND_WORDS, kindOf, type JobKind } from './job-kind.ts';

/** One thing a step will create, change or send. */
export type PlannedResource = {
  /** The system it lives in: "AWS S3", "Route 53", "MongoDB", "Okta", "Stripe"… */
  system: string;
  /** What kind of thing: "bucket", "CNAME record", "subscription". */
  kind: string;
  /** Its name or identifier as it will exist (or, when `namedAtCreation`, what it is for). */
  name: string;
  /** The system picks the real name when it is created (e.g. ACM's validation record): `name` says what it is for. */
  namedAtCreation?: boolean;
  /** Where it will be: a region, a hosted zone, a database; absent when the system has no such place. */
  place?: string;
  /** Key settings in plain words: "versioning on", "250,000 USD/year". */
  settings: string[];
  /** What cannot be known before it exists: "app id: assigned at creation". */
  unknown: string[];
};

/** What one step will do, said before it runs. */
export type StepPlan = {
  /** One plain sentence in the future tense. */
  summary: string;
  resources: PlannedResource[];
  /** What the step will wait for from the customer (e.g. their SAML metadata), if anything. */
  waitsForCustomer?: string;
  /** Why a person must approve before anything runs, when the step is an approval gate. */
  approvalReasons?: string[];
};

export type StepPreview = {
  id: string;
  type: string;
  description?: string;
  milestone?: string;
  needs: string[];
  criticality: JobStepDefinition['criticality'];
  plan: StepPlan;
};

export type JobPreview = {
  jobId: string;
  /** Provisioning, or what a lifecycle job does to a tenant that exists: the preview's words follow it. */
  kind: JobKind;
  companyName: string;
  slug: string;
  planId: string;
  dataResidency: string;
  tenantUrl: string;
  /** Empty when the job starts without waiting for anyone. */
  approvalReasons: string[];
  /** Steps that will stop until the customer supplies something. */
  waitsForCustomer: { stepId: string; what: string }[];
  /** In the order the graph runs them (ties in pipeline order). */
  steps: StepPreview[];
};

/** Says what one step of the definition will do; the step type's own `plan` answers it. */
export type StepPlanner = (step: JobStepDefinition) => StepPlan;

/** The job's preview: every step's plan in graph order, with the approval reasons and what waits on the customer. */
export function composePreview(definition: JobDefinition, planStep: StepPlanner): JobPreview {
  const byId = new Map(definition.steps.map((step) => [step.id, step]));
  const steps: StepPreview[] = [];
  for (const id of topologicalOrder(definition.steps)) {
    const step = byId.get(id);
    if (step !== undefined) steps.push(stepPreview(step, planStep(step)));
  }
  const { intake, tenant } = definition;
  return {
    jobId: definition.jobId,
    kind: kindOf(definition),
    companyName: tenant.companyName,
    slug: tenant.slug,
    planId: tenant.planId,
    dataResidency: intake.dataResidency,
    tenantUrl: tenant.tenantUrl,
    approvalReasons: [...tenant.approvalReasons],
    waitsForCustomer: steps.flatMap((s) => (s.plan.waitsForCustomer === undefined ? [] : [{ stepId: s.id, what: s.plan.waitsForCustomer }])),
    steps,
  };
}

function stepPreview(step: JobStepDefinition, plan: StepPlan): StepPreview {
  return {
    id: step.id,
    type: step.type,
    ...(step.description === undefined ? {} : { description: step.description }),
    ...(step.milestone === undefined ? {} : { milestone: step.milestone }),
    needs: [...step.needs],
    criticality: step.criticality,
    plan,
  };
}

/** Every resource the job will create, with the step that creates it (what the property test compares). */
export function plannedResources(preview: JobPreview): (PlannedResource & { stepId: string })[] {
  return preview.steps.flatMap((step) => step.plan.resources.map((resource) => ({ ...resource, stepId: step.id })));
}

/** "Route 53 CNAME record acme.tenants.example.com in zone Z1: TTL 300": one line a person reads. */
export function resourceLine(resource: PlannedResource): string {
  const place = resource.place === undefined ? '' : ` in ${resource.place}`;
  const details = [...resource.settings, ...resource.unknown];
  return `${resource.system} ${resource.kind} ${resource.name}${place}${details.length > 0 ? ` (${details.join('; ')})` : ''}`;
}

/** The preview in plain language, for a terminal or a page: a heading, then each step and what it makes. */
export function previewLines(preview: JobPreview): string[] {
  const lines = [
    previewHeading(preview),
    `Web address: ${preview.tenantUrl}`,
    preview.approvalReasons.length === 0
      ? `Approval: not needed; ${preview.kind === 'provision' ? 'provisioning' : 'the job'} starts at once.`
      : `Approval needed before anything runs: ${preview.approvalReasons.join('; ')}.`,
  ];
  for (const wait of preview.waitsForCustomer) lines.push(`Will wait for the customer at ${wait.stepId}: ${wait.what}.`);
  lines.push('');
  for (const step of preview.steps) {
    const after = step.needs.length > 0 ? ` (after ${step.needs.join(', ')})` : '';
    const bestEffort = step.criticality === 'notification' ? ' [best effort]' : '';
    lines.push(`${step.id}${after}${bestEffort}: ${step.plan.summary}`);
    for (const resource of step.plan.resources) lines.push(`  + ${resourceLine(resource)}`);
  }
  return lines;
}

/** "Preview for Acme (slug acme) on the growth plan…": what the job is for, and that nothing happened yet. */
function previewHeading(preview: JobPreview): string {
  const where = `on the ${preview.planId} plan, data in ${preview.dataResidency.toUpperCase()}`;
  if (preview.kind === 'provision') return `Preview for ${preview.companyName} (slug ${preview.slug}) ${where}: nothing has been created.`;
  return `Preview: ${KIND_WORDS[preview.kind].verb} ${preview.companyName} (slug ${preview.slug}), ${where}: nothing has been changed.`;
}
