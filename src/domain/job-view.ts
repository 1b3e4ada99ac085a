/**
 * A job as people see it: tenant, status, one line per step. Built from the
 * definition and the live state; stored in MongoDB, printed by the CLI,
 * rendered into Slack.
 */
import type { JobDefinition } from './job-definition.ts';
import { kindOf, type JobKind } from './job-kind.ts';
import { deriveJobStatus, progress, type Criticality, type JobMode, type JobSnapshot, type JobStatus, type StepState } from './job.ts';
import type { Requester } from './policy.ts';
import { redactRecord } from './redact.ts';

export type StepDetails = {
  startedAt?: number;
  finishedAt?: number;
  outputs: Record<string, unknown>;
  error?: string;
  /** Where the error was thrown (its stack), redacted: for engineers in the admin panel, never for Slack or customers. */
  errorTrace?: string;
  pollSince?: number;
  providedInput?: unknown;
  approvedBy?: string;
  override?: { by: string; reason: string };
  waitingFor?: string;
};

/** An output a step declared worth showing people, e.g. { label: 'Billing customer', value: 'cus_…' }. */
export type StepFact = { label: string; value: string };

export type StepView = {
  id: string;
  label: string;
  type: string;
  criticality: Criticality;
  /** The customer-facing milestone this step belongs to, if any. */
  milestone?: string;
  state: StepState;
  needs: string[];
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  error?: string;
  /** The failure's stack trace, redacted (admin panel only). */
  errorTrace?: string;
  waitingFor?: string;
  approvedBy?: string;
  override?: { by: string; reason: string };
  /** Redacted. */
  outputs: Record<string, unknown>;
  /** What the step type declares worth showing, from its (redacted) outputs; absent when none. */
  facts?: StepFact[];
};

export type JobView = {
  jobId: string;
  /** What the job does to its tenant; absent on views stored before kinds existed (provisioning). */
  kind?: JobKind;
  status: JobStatus;
  mode: JobMode;
  seq: number;
  tenant: { slug: string; companyName: string; planId: string; tenantUrl: string; dnsName: string };
  requestedBy: string;
  /** When it was asked for (ISO 8601). */
  requestedAt: string;
  /** Who asked, on which door: what the policy compares an actor with. */
  requester?: Requester;
  crmOpportunityId: string;
  progress: { done: number; total: number };
  steps: StepView[];
};

export function buildJobView(definition: JobDefinition, state: JobSnapshot & { details: ReadonlyMap<string, StepDetails> }): JobView {
  const steps = definition.steps.map((def): StepView => {
    const snap = state.steps.get(def.id);
    const details = state.details.get(def.id) ?? { outputs: {} };
    const view: StepView = {
      id: def.id,
      label: stepLabel(def.id),
      type: def.type,
      criticality: def.criticality,
      state: snap?.state ?? 'pending',
      needs: def.needs,
      outputs: redactRecord(details.outputs),
    };
    if (def.milestone !== undefined) view.milestone = def.milestone;
    if (details.startedAt !== undefined) view.startedAt = details.startedAt;
    if (details.finishedAt !== undefined) view.finishedAt = details.finishedAt;
    if (details.startedAt !== undefined && details.finishedAt !== undefined) {
      view.durationMs = Math.max(0, details.finishedAt - details.startedAt);
    }
    if (details.error) view.error = details.error;
    if (details.errorTrace) view.errorTrace = details.errorTrace;
    if (details.waitingFor) view.waitingFor = details.waitingFor;
    if (details.approvedBy) view.approvedBy = details.approvedBy;
    if (details.override) view.override = details.override;
    const facts = factsShown(def.facts, view.outputs);
    if (facts.length > 0) view.facts = facts;
    return view;
  });
  return {
    jobId: definition.jobId,
    kind: kindOf(definition),
    status: deriveJobStatus(state),
    mode: state.mode,
    seq: state.seq,
    tenant: {
      slug: definition.tenant.slug,
      companyName: definition.tenant.companyName,
      planId: definition.tenant.planId,
      tenantUrl: definition.tenant.tenantUrl,
      dnsName: definition.tenant.dnsName,
    },
    requestedBy: definition.intake.requestedBy,
    requestedAt: definition.createdAt,
    ...(definition.requester ? { requester: definition.requester } : {}),
    crmOpportunityId: definition.intake.crmOpportunityId,
    progress: progress(state),
    steps,
  };
}

/** The declared facts that the outputs hold a value for, in the order declared. */
function factsShown(declared: Readonly<Record<string, string>> | undefined, outputs: Record<string, unknown>): StepFact[] {
  return Object.entries(declared ?? {}).flatMap(([key, label]) => {
    const value = outputs[key];
    return (typeof value === 'string' && value !== '') || typeof value === 'number' ? [{ label, value: String(value) }] : [];
  });
}

/** How a step is named in sentences: "seed_data" reads "seed data". */
export function stepLabel(stepId: string): string {
  return stepId.replace(/[_-]+/g, ' ');
}

/** The view of a job that has not started: every step pending, waiting for its needs. */
export function initialJobView(definition: JobDefinition): JobView {
  const steps = new Map(
    definition.steps.map((s) => [
      s.id,
      {
        id: s.id,
        state: 'pending' as const,
        ticket: 0,
        remaining: s.needs.length,
        criticality: s.criticality,
        needs: s.needs,
        dependents: s.dependents,
      },
    ]),
  );
  return buildJobView(definition, { mode: 'forward', failedBlocking: 0, seq: 0, steps, details: new Map() });
}
