/**
 * A made-up but plausible history for the KPI benchmark: job i is a variation
 * of one real definition (plan, dates, step types of the real pipeline), with
 * a trail of exactly `perJob` audit entries (steps started and done, some
 * failing and retried or overridden, approvals waited on, a few rolled back
 * or still failed, the rest padded with routine polling), its view, and the
 * workflows its tenant's people first used. Deterministic per i.
 */
import type { AuditEntry } from '../src/domain/audit.ts';
import type { EventType } from '../src/domain/events.ts';
import type { JobDefinition } from '../src/domain/job-definition.ts';
import { buildJobView, type StepDetails } from '../src/domain/job-view.ts';
import type { JobMode, StepSnapshot, StepState } from '../src/domain/job.ts';
import type { JobRecord } from '../src/ports/store.ts';

const MIN = 60_000;
const DAY = 86_400_000;

/** The bench graph's steps as the real pipeline's step types. */
const TYPES: Readonly<Record<string, string>> = {
  database: 'tenant_database',
  dns: 'dns_record',
  secrets: 'tenant_secrets',
  seed_data: 'tenant_seed',
  feature_flags: 'feature_flags',
  dns_verify: 'dns_record',
  sso: 'sso',
  billing: 'billing',
  edge: 'webhook',
  activate: 'welcome_email',
};
const WORKFLOWS = ['invoices', 'approvals', 'reports', 'exports', 'integrations', 'dashboards'];

/** A small seeded generator (mulberry32): the same history every run. */
function randomFor(seed: number): () => number {
  let a = seed + 0x6d2b79f5;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type SeededJob = {
  record: JobRecord;
  entries: AuditEntry[];
  firstUses: { _id: string; tenantSlug: string; workflow: string; firstAt: Date }[];
};

type Outcome = 'live' | 'failed' | 'rolled_back' | 'awaiting_approval';

function definitionFor(template: JobDefinition, i: number, plan: string, requestedAt: number, contractStart: string, gated: boolean): JobDefinition {
  const slug = `kpi-${i}`;
  const steps = template.steps.map((s) => ({ ...s, type: TYPES[s.id] ?? s.type }));
  const gate = { ...steps[0], id: 'approval_gate', type: 'approval', needs: [], dependents: [] };
  return {
    ...template,
    jobId: slug,
    createdAt: new Date(requestedAt).toISOString(),
    intake: { ...template.intake, companyName: `Customer ${i}`, slug, plan, contractStartDate: contractStart, crmOpportunityId: `006KPI${i}` },
    tenant: { ...template.tenant, slug, companyName: `Customer ${i}`, planId: plan, tenantId: slug },
    steps: gated && steps[0] ? [{ ...steps[0], ...gate }, ...steps] : steps,
  };
}

export function seededJob(template: JobDefinition, i: number, now: number, perJob: number): SeededJob {
  const rand = randomFor(i);
  const between = (lo: number, hi: number) => lo + rand() * (hi - lo);
  const roll = rand();
  const plan = roll < 0.6 ? 'starter' : roll < 0.9 ? 'growth' : 'enterprise';
  const gated = plan === 'enterprise' || (plan === 'growth' && rand() < 0.33);
  const requestedAt = Math.round(now - between(1, 84) * DAY);
  const fate = rand();
  const outcome: Outcome = fate < 0.9 ? 'live' : fate < 0.95 ? 'failed' : fate < 0.98 ? 'rolled_back' : gated ? 'awaiting_approval' : 'live';
  // Most contracts start a few days before the request; a few start after the tenant is live.
  const contractAt = rand() < 0.03 ? requestedAt + 10 * DAY : requestedAt - Math.floor(between(0, 5)) * DAY;
  const definition = definitionFor(template, i, plan, requestedAt, new Date(contractAt).toISOString().slice(0, 10), gated);
  const jobId = definition.jobId;

  const entries: AuditEntry[] = [];
  const add = (at: number, type: EventType, stepId?: string) =>
    entries.push({
      id: `${jobId}:${String(entries.length).padStart(4, '0')}`,
      jobId,
      tenantSlug: definition.tenant.slug,
      companyName: definition.tenant.companyName,
      at: new Date(at),
      type,
      actor: 'provisioner',
      summary: `${type} ${stepId ?? ''}`.trim(),
      ...(stepId ? { stepId } : {}),
    });
  const states = new Map<string, StepState>();
  const details = new Map<string, StepDetails>();
  let t = requestedAt;
  let mode: JobMode = 'forward';
  /** Moves the job's clock on, and records what happened then. */
  const later = (afterMs: number, type: EventType, stepId?: string): number => {
    t += Math.round(afterMs);
    add(t, type, stepId);
    return t;
  };
  add(t, 'job.created');
  if (gated) {
    later(1000, 'step.waiting_approval', 'approval_gate');
    states.set('approval_gate', 'waiting_approval');
    if (outcome === 'awaiting_approval') return finish();
    later(between(5, 240) * MIN, 'step.approved', 'approval_gate');
    states.set('approval_gate', 'succeeded');
  }
  const troubled = outcome === 'failed' || outcome === 'rolled_back' || rand() < 0.1 ? Math.floor(rand() * template.steps.length) : -1;
  for (const [k, step] of template.steps.entries()) {
    const startedAt = later(200, 'step.started', step.id);
    if (k === troubled) {
      later(between(1, 20) * 1000, 'step.failed', step.id);
      states.set(step.id, 'failed');
      details.set(step.id, { outputs: {}, startedAt, finishedAt: t, error: 'rejected' });
      if (outcome === 'failed') break;
      if (outcome === 'rolled_back') {
        later(between(10, 120) * MIN, 'job.rollback_started');
        mode = 'rollback';
        for (const done of template.steps.slice(0, k)) {
          later(500, 'step.compensated', done.id);
          states.set(done.id, 'compensated');
        }
        later(1, 'job.rollback_finished');
        break;
      }
      if (rand() < 0.33) {
        later(between(5, 60) * MIN, 'step.overridden', step.id);
        states.set(step.id, 'overridden');
        continue;
      }
      later(between(5, 60) * MIN, 'step.retried', step.id);
      later(200, 'step.started', step.id);
    }
    later(between(1, 30) * 1000, 'step.succeeded', step.id);
    states.set(step.id, 'succeeded');
    details.set(step.id, { outputs: {}, startedAt, finishedAt: t });
  }
  if (outcome === 'live') add(t + 1, 'job.live');
  return finish();

  function finish(): SeededJob {
    // Routine polling fills the trail to exactly perJob entries, spread over the job's life.
    const end = t;
    for (let n = entries.length; n < perJob; n++) add(Math.round(requestedAt + ((end - requestedAt) * n) / perJob), 'step.polling', 'dns_verify');
    const snapshot = new Map<string, StepSnapshot>(
      definition.steps.map((s) => [
        s.id,
        {
          id: s.id,
          state: states.get(s.id) ?? 'pending',
          ticket: 1,
          remaining: 0,
          criticality: s.criticality,
          needs: s.needs,
          dependents: s.dependents,
        },
      ]),
    );
    const view = buildJobView(definition, { mode, failedBlocking: outcome === 'failed' ? 1 : 0, seq: entries.length, steps: snapshot, details });
    const liveAt = outcome === 'live' ? end + 1 : undefined;
    const firstUses =
      liveAt !== undefined && rand() < 0.7
        ? WORKFLOWS.slice(0, 1 + Math.floor(rand() * WORKFLOWS.length)).flatMap((workflow) => {
            const firstAt = liveAt + Math.round(rand() * rand() * 40 * DAY);
            return firstAt <= now
              ? [{ _id: `${definition.tenant.slug}/${workflow}`, tenantSlug: definition.tenant.slug, workflow, firstAt: new Date(firstAt) }]
              : [];
          })
        : [];
    return { record: { definition, view, createdAt: new Date(requestedAt), updatedAt: new Date(end) }, entries, firstUses };
  }
}
