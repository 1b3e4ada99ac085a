/**
 * The lifecycle verbs, one function each: change plan, suspend, reactivate,
 * decommission, apply billing entitlements. Each asks the policy, checks the
 * tenant's status machine, and starts one job of its kind on the engine
 * (its pipeline from manifests/lifecycle/<kind>.yaml), with the approvals,
 * retries, rollback, audit and Slack message every job has. The doors reach
 * these through ProvisioningService.lifecycle, like every other verb.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ActionRefusedError,
  InvalidInputError,
  NotAllowedError,
  TenantBusyError,
  TenantTransitionRefusedError,
  UnknownTenantError,
} from '../domain/errors.ts';
import { buildJobDefinition, lifecycleJobIdFor, type JobDefinition, type LifecycleRequest } from '../domain/job-definition.ts';
import { KIND_WORDS, type LifecycleKind } from '../domain/job-kind.ts';
import { initialJobView, type JobView } from '../domain/job-view.ts';
import { lifecycleApprovalReasons } from '../domain/lifecycle.ts';
import { overageReason, planChangeRefusal, userLimit } from '../domain/plan-change.ts';
import { planNamed, type Plan } from '../domain/plan.ts';
import { decideTenantAction, DOOR_WORDS, type Identity } from '../domain/policy.ts';
import { redactText } from '../domain/redact.ts';
import { moveTenant, requireMove, statusFromProvisioning, type TenantEvent } from '../domain/tenant-status.ts';
import { typedBack } from '../domain/wording.ts';
import type { TenantClaim, TenantRecord } from '../ports/store.ts';
import type { TenantDataLocation } from '../ports/tenant-usage.ts';
import { freesTenant } from '../domain/job.ts';
import type { ServiceDeps } from './services.ts';

/** What is asked, beyond the verb and the tenant. */
export type LifecycleAsk = {
  /** Why, for the trail (at least 3 characters). */
  reason: string;
  /**
   * Makes the request idempotent: the same tenant, verb and key always give the same job (a billing
   * event id, a Slack modal's id, a person's request id). Without one, asking again while the same
   * verb's job is under way finds that job.
   */
  requestKey?: string;
  /** What asked, when it is not a person's own request: "Stripe invoice.payment_failed in_123". */
  source?: string;
  /** Values particular to the verb (the entitlements to apply…), read by its steps as `${request.details.…}`. */
  details?: Record<string, unknown>;
};

export type LifecycleResult = { outcome: 'created' | 'existing'; job: JobView };

/** How long a request waits for another one deciding on the same tenant (its claim held, its job not stored yet). */
const DECIDING_ROUNDS = 40;
const DECIDING_PAUSE_MS = 25;

/** The status machine's event each verb starts with: the check made before the job is even created. */
const FIRST_EVENT: Readonly<Record<LifecycleKind, TenantEvent>> = {
  change_plan: 'change_plan',
  suspend: 'suspend',
  reactivate: 'reactivate',
  decommission: 'decommission',
  sync_entitlements: 'sync_entitlements',
};

export class LifecycleService {
  private readonly deps: ServiceDeps;

  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Upgrades or downgrades the tenant: its flags, limits and subscription follow the new plan. */
  changePlan(slug: string, toPlan: string, who: Identity, ask: LifecycleAsk): Promise<LifecycleResult> {
    return this.request('change_plan', slug, who, ask, toPlan);
  }

  /** Blocks sign-in at the identity provider and marks the tenant suspended; its data is kept. */
  suspend(slug: string, who: Identity, ask: LifecycleAsk): Promise<LifecycleResult> {
    return this.request('suspend', slug, who, ask);
  }

  /** Undoes a suspension: sign-in allowed again, the tenant live. */
  reactivate(slug: string, who: Identity, ask: LifecycleAsk): Promise<LifecycleResult> {
    return this.request('reactivate', slug, who, ask);
  }

  /** After approval and a grace period: exports the tenant's data, then removes everything provisioned for it. */
  decommission(slug: string, who: Identity, ask: LifecycleAsk): Promise<LifecycleResult> {
    return this.request('decommission', slug, who, ask);
  }

  /** Applies what billing says the tenant is entitled to (flags, limits, billing state); `ask.details` carries it. */
  syncEntitlements(slug: string, who: Identity, ask: LifecycleAsk): Promise<LifecycleResult> {
    return this.request('sync_entitlements', slug, who, ask);
  }

  /** The plans a tenant may be moved to, by id and the name people know them by. */
  plans(): { id: string; name: string }[] {
    return Object.entries(this.deps.manifests.plans.plans).map(([id, plan]) => ({ id, name: plan.displayName }));
  }

  /** Where the tenant stands; UnknownTenantError when there is none. */
  async tenant(slug: string): Promise<TenantRecord> {
    const tenant = await this.deps.store.tenant(slug);
    if (!tenant) throw new UnknownTenantError(typedBack(slug));
    if (tenant.movedBy) return tenant;
    // Until a lifecycle job moves it, its provisioning job decides, live from the engine: the store follows a moment later.
    const provisioning = await this.deps.engine.view(tenant.jobId);
    return provisioning ? { ...tenant, status: statusFromProvisioning(provisioning.status) } : tenant;
  }

  private async request(kind: LifecycleKind, slug: string, who: Identity, ask: LifecycleAsk, toPlan?: string): Promise<LifecycleResult> {
    const decision = decideTenantAction(who, kind);
    if (!decision.allowed) throw new NotAllowedError(decision.reason);
    requireReason(ask.reason, KIND_WORDS[kind].verb);
    const manifest = this.deps.manifests.lifecycle.get(kind);
    if (!manifest)
      throw new ActionRefusedError(
        `this deployment has no ${kind} pipeline (manifests/lifecycle/${kind}.yaml), so tenants cannot be asked to ${KIND_WORDS[kind].verb} here`,
      );
    const tenant = await this.tenant(slug);
    if (ask.requestKey !== undefined) {
      const asked = await this.deps.store.getJob(lifecycleJobIdFor(tenant.slug, kind, ask.requestKey));
      if (asked) return { outcome: 'existing', job: await this.resume(asked.definition) };
    }
    requireMove(tenant.slug, tenant, FIRST_EVENT[kind]);
    const definition = await this.define(kind, tenant, who, ask, toPlan, manifest);
    const claim = await this.claimOnceDecided(tenant.slug, definition.jobId, kind);
    if (!claim.ok) return this.underWay(tenant, kind, claim.jobId, definition);
    await this.stillAllowed(tenant.slug, definition.jobId, kind);
    const at = this.now();
    // The same request at the same moment: both hold the claim (same job id), the store keeps one of them.
    const stored = await this.deps.store.createJob({ definition, view: initialJobView(definition), createdAt: at, updatedAt: at });
    return { outcome: stored === 'created' ? 'created' : 'existing', job: await this.resume(definition) };
  }

  /**
   * The claim, unless another request holds it while it is still deciding (its job not stored yet, as when
   * the same verb is asked many times at once): then wait for its outcome — its job, to join, or its
   * refusal, after which the claim is free again.
   */
  private async claimOnceDecided(slug: string, jobId: string, kind: LifecycleKind): Promise<TenantClaim> {
    for (let round = 0; ; round++) {
      const claim = await this.claim(slug, jobId, kind);
      if (claim.ok || round >= DECIDING_ROUNDS || (await this.deps.store.getJob(claim.jobId))) return claim;
      await sleep(DECIDING_PAUSE_MS);
    }
  }

  /**
   * The status was checked before the claim; a job that finished in between may have moved the tenant (the
   * same suspension asked again just as the first one marks the tenant suspended). Holding the claim, no
   * other job can move it now: look again, and let go with the refusal if the move is no longer allowed.
   */
  private async stillAllowed(slug: string, jobId: string, kind: LifecycleKind): Promise<void> {
    const now = await this.tenant(slug);
    const move = moveTenant(now.slug, now, FIRST_EVENT[kind]);
    // The same request again (same job id) after its own job moved the tenant: it is answered with that job.
    if (move.ok || now.movedBy?.jobId === jobId) return;
    await this.deps.store.releaseClaim(now.slug, jobId);
    throw new TenantTransitionRefusedError(move.reason, now.status, FIRST_EVENT[kind]);
  }

  /** The tenant for this job, taking it from a job that has just finished (the engine knows before the store does). */
  private async claim(slug: string, jobId: string, kind: LifecycleKind): Promise<TenantClaim> {
    const claim = await this.deps.store.claimTenant(slug, jobId, kind);
    if (claim.ok) return claim;
    const holder = await this.deps.engine.view(claim.jobId);
    if (!holder || !freesTenant(holder.status)) return claim;
    await this.deps.store.releaseClaim(slug, claim.jobId);
    return this.deps.store.claimTenant(slug, jobId, kind);
  }

  private async define(
    kind: LifecycleKind,
    tenant: TenantRecord,
    who: Identity,
    ask: LifecycleAsk,
    toPlan: string | undefined,
    manifest: NonNullable<ReturnType<ServiceDeps['manifests']['lifecycle']['get']>>,
  ): Promise<JobDefinition> {
    const provisioned = await this.deps.store.getJob(tenant.jobId);
    if (!provisioned)
      throw new ActionRefusedError(`the job that provisioned ${tenant.slug} (${tenant.jobId}) is not stored, so nothing can be changed on it`);
    const fromPlan = tenant.planId ?? provisioned.definition.intake.plan;
    const target = this.targetPlan(tenant.slug, fromPlan, toPlan);
    const overage = kind === 'change_plan' ? await this.overage(provisioned.definition.tenant, target) : undefined;
    const request: LifecycleRequest = {
      requestKey: ask.requestKey ?? randomUUID(),
      reason: redactText(ask.reason.trim()),
      source: ask.source ?? `${who.name} ${DOOR_WORDS[who.door]}`,
      fromPlan,
      toPlan: target.id,
      details: {
        ...ask.details,
        ...kindDetails(kind, tenant, target.from),
        ...(overage ? { overage: overage.facts } : {}),
      },
    };
    const built = buildJobDefinition({
      intake: { ...provisioned.definition.intake, plan: target.id, requestedBy: who.name },
      requester: { door: who.door, id: who.id },
      plan: target.plan,
      planId: target.id,
      pipeline: manifest.steps,
      settings: this.deps.settings,
      catalogue: this.deps.catalogue,
      now: this.now(),
      // The tenant stays where it was provisioned: its residency names the same region.
      residencyRegions: this.deps.manifests.plans.residencyRegions,
      lifecycle: {
        kind,
        request,
        approvalReasons: lifecycleApprovalReasons(kind, manifest, { byPerson: who.door !== 'api' }, overage ? [overage.reason] : []),
      },
    });
    if (!built.ok) throw new InvalidInputError(built.problems);
    return built.definition;
  }

  /** A move to a plan allowing fewer users than the tenant has: the reason an approver must agree, and the figures. */
  private async overage(
    tenant: TenantDataLocation,
    target: { plan: Plan },
  ): Promise<{ reason: string; facts: { activeUsers: number; limit: number | undefined } } | undefined> {
    if (!this.deps.usage) return undefined;
    const activeUsers = await this.deps.usage.activeUsers(tenant);
    const reason = overageReason(activeUsers, target);
    return reason ? { reason, facts: { activeUsers, limit: userLimit(target.plan) } } : undefined;
  }

  /** The plan the job leaves the tenant on: the one asked for on a plan change, else the one it is on. */
  private targetPlan(slug: string, fromPlan: string, toPlan: string | undefined): { id: string; plan: Plan; from: Plan } {
    const plans = this.deps.manifests.plans;
    const current = planNamed(plans, fromPlan);
    if (!current) throw new ActionRefusedError(`${slug} is on the plan "${fromPlan}", which plans.yaml no longer has`);
    if (toPlan === undefined) return { id: fromPlan, plan: current, from: current };
    const wanted = planNamed(plans, toPlan);
    if (!wanted) {
      throw new InvalidInputError([
        { field: 'plan', message: `unknown plan "${typedBack(toPlan)}" (plans: ${Object.keys(plans.plans).join(', ')})` },
      ]);
    }
    const refusal = planChangeRefusal(slug, { id: fromPlan, plan: current }, { id: toPlan, plan: wanted });
    if (refusal) throw new ActionRefusedError(refusal);
    return { id: toPlan, plan: wanted, from: current };
  }

  /**
   * Another lifecycle job holds the tenant. The same verb (for the same plan) asked again is that
   * job; anything else waits until it is done.
   */
  private async underWay(tenant: TenantRecord, kind: LifecycleKind, holder: string, ours: JobDefinition): Promise<LifecycleResult> {
    const held = await this.deps.store.getJob(holder);
    if (held && held.definition.kind === kind && held.definition.request?.toPlan === ours.request?.toPlan) {
      return { outcome: 'existing', job: await this.resume(held.definition) };
    }
    const doing = held?.definition.kind ? KIND_WORDS[held.definition.kind].doing.toLowerCase() : 'changing';
    throw new TenantBusyError(
      `${tenant.slug} is busy: another job is already ${doing} it (job ${holder}). Wait for it to finish, or cancel it, before asking to ${KIND_WORDS[kind].verb} it`,
      holder,
    );
  }

  /** Makes sure a stored job has its live state (a crash may have come between the two). */
  private async resume(definition: JobDefinition): Promise<JobView> {
    const request = definition.request;
    const kind = definition.kind;
    const t = definition.tenant;
    const verb = kind && kind !== 'provision' ? KIND_WORDS[kind].verb : 'provision';
    const plan = kind === 'change_plan' && request ? ` from ${request.fromPlan} to ${request.toPlan}` : '';
    const needs = t.approvalReasons.length > 0 ? ` Needs approval: ${t.approvalReasons.join('; ')}.` : '';
    await this.deps.engine.createJob(definition, {
      type: 'job.created',
      jobId: definition.jobId,
      at: Date.parse(definition.createdAt),
      actor: definition.intake.requestedBy,
      summary: redactText(
        `${request?.source ?? definition.intake.requestedBy} asked to ${verb} ${t.companyName} (slug ${t.slug})${plan}: "${request?.reason ?? ''}".${needs}`,
      ),
      ...(request ? { reason: redactText(request.reason) } : {}),
    });
    return (await this.deps.engine.view(definition.jobId)) ?? initialJobView(definition);
  }
}

/** What each kind's steps read beyond the tenant and the plan (`${request.details.…}`). */
function kindDetails(kind: LifecycleKind, tenant: TenantRecord, fromPlan: Plan): Record<string, unknown> {
  if (kind === 'change_plan') return { fromPriceRef: fromPlan.billing.priceRef };
  if (kind === 'decommission') return { provisioningJobId: tenant.jobId };
  return {};
}

function requireReason(reason: string, verb: string): void {
  if (reason.trim().length < 3)
    throw new InvalidInputError([{ field: 'reason', message: `Give a reason to ${verb} the tenant (it goes in the audit trail)` }]);
}
