/**
 * What one job contributes to the signed-to-live KPIs, read from its audit
 * trail and its definition: when it was signed, asked for and went live, how
 * long its approvals waited, what people had to do by hand, and how each step
 * type fared. Computed once per change of the job and kept (the KPI page
 * aggregates these, never the audit itself).
 */
import { kindOf, type JobKind } from './job-kind.ts';
import type { AuditEntry } from './audit.ts';
import type { JobDefinition } from './job-definition.ts';

/** What a person had to do to a job that a smooth run does not need. */
export const HANDOFF_KINDS = ['retry', 'override', 'rollback', 'cancel'] as const;
export type HandoffKind = (typeof HANDOFF_KINDS)[number];

const HANDOFF_OF: Readonly<Partial<Record<AuditEntry['type'], HandoffKind>>> = {
  'step.retried': 'retry',
  'step.overridden': 'override',
  'job.rollback_started': 'rollback',
  'job.cancelled': 'cancel',
};

/** One step type's record within a job. */
export type StepTypeFacts = {
  type: string;
  /** Runs that ended: each success and each failure (automatic retries inside a run are not counted). */
  runs: number;
  failures: number;
  /** For each failure dealt with: from the step failing to it next succeeding or being overridden, in ms. */
  recoveriesMs: number[];
  /** Failures never followed by the step succeeding or being overridden. */
  unrecovered: number;
};

export type JobFacts = {
  jobId: string;
  /** What the job did: only provisioning jobs count in the signed-to-live KPIs (see kpis.ts). */
  kind: JobKind;
  /** The stored view's sequence number these facts were read at: the audit up to it is complete. */
  seq: number;
  planId: string;
  tenantSlug: string;
  companyName: string;
  /** When the job was asked for (epoch ms). */
  requestedAt: number;
  /** The contract start date of the intake, at 00:00 UTC (epoch ms): the signature the KPIs count from. */
  signedAt: number;
  /** When the tenant went live (the trail's "is live" entry), if it did. */
  liveAt?: number;
  /** Each approval decided (approved or rejected): how long it waited, in ms. */
  approvalWaitsMs: number[];
  /** Since when an approval is still waiting (a job cancelled or rolled back waits for nobody). */
  approvalWaitingSince?: number;
  /** How many times people had to step in, by kind. */
  handoffs: Record<HandoffKind, number>;
  steps: StepTypeFacts[];
};

type StepTally = { runs: number; failures: number; recoveriesMs: number[]; openSince: Map<string, number> };

/** The facts of one job from its definition and its complete audit trail (any order). */
export function jobFacts(definition: JobDefinition, seq: number, entries: readonly AuditEntry[]): JobFacts {
  const typeOf = new Map(definition.steps.map((s) => [s.id, s.type]));
  const ordered = [...entries].sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const tallies = new Map<string, StepTally>();
  const tally = (type: string): StepTally => {
    const known = tallies.get(type);
    if (known) return known;
    const fresh: StepTally = { runs: 0, failures: 0, recoveriesMs: [], openSince: new Map() };
    tallies.set(type, fresh);
    return fresh;
  };
  const handoffs: Record<HandoffKind, number> = { retry: 0, override: 0, rollback: 0, cancel: 0 };
  const approvals = new Map<string, number>();
  const approvalWaitsMs: number[] = [];
  let liveAt: number | undefined;
  // A lifecycle job (a suspension, a plan change) ending is not a tenant going live.
  const provisioning = kindOf(definition) === 'provision';
  let stopped = false;
  for (const entry of ordered) {
    const at = entry.at.getTime();
    const kind = HANDOFF_OF[entry.type];
    if (kind) handoffs[kind] += 1;
    if (entry.type === 'job.live' && provisioning) liveAt ??= at;
    if (entry.type === 'job.cancelled' || entry.type === 'job.rollback_started') stopped = true;
    const stepId = entry.stepId;
    if (stepId === undefined) continue;
    if (entry.type === 'step.waiting_approval') approvals.set(stepId, at);
    const asked = approvals.get(stepId);
    if ((entry.type === 'step.approved' || entry.type === 'step.rejected') && asked !== undefined) {
      approvalWaitsMs.push(Math.max(0, at - asked));
      approvals.delete(stepId);
    }
    const type = typeOf.get(stepId);
    if (type !== undefined) countRun(tally(type), stepId, entry.type, at);
  }
  const waitingSince = stopped ? undefined : Math.min(...approvals.values());
  return {
    jobId: definition.jobId,
    kind: kindOf(definition),
    seq,
    planId: definition.tenant.planId,
    tenantSlug: definition.tenant.slug,
    companyName: definition.tenant.companyName,
    requestedAt: Date.parse(definition.createdAt),
    signedAt: Date.parse(`${definition.intake.contractStartDate}T00:00:00Z`),
    ...(liveAt === undefined ? {} : { liveAt }),
    approvalWaitsMs,
    ...(waitingSince === undefined || !Number.isFinite(waitingSince) ? {} : { approvalWaitingSince: waitingSince }),
    handoffs,
    steps: [...tallies.entries()]
      .filter(([, t]) => t.runs > 0)
      .map(([type, t]) => ({ type, runs: t.runs, failures: t.failures, recoveriesMs: t.recoveriesMs, unrecovered: t.openSince.size }))
      .sort((a, b) => (a.type < b.type ? -1 : 1)),
  };
}

/** A failure opens an incident on its step (a second failure before recovery belongs to the same one); success or an override closes it. */
function countRun(t: StepTally, stepId: string, type: AuditEntry['type'], at: number): void {
  if (type === 'step.succeeded' || type === 'step.failed') t.runs += 1;
  if (type === 'step.failed') {
    t.failures += 1;
    if (!t.openSince.has(stepId)) t.openSince.set(stepId, at);
  }
  const since = t.openSince.get(stepId);
  if ((type === 'step.succeeded' || type === 'step.overridden') && since !== undefined) {
    t.recoveriesMs.push(Math.max(0, at - since));
    t.openSince.delete(stepId);
  }
}

/** Whether anyone had to step in: a retry, an override, a rollback or a cancel. */
export function neededAHuman(facts: Pick<JobFacts, 'handoffs'>): boolean {
  return HANDOFF_KINDS.some((k) => facts.handoffs[k] > 0);
}
