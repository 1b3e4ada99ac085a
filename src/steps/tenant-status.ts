/**
 * Moves the tenant through its status machine (suspended, live again,
 * decommissioning, decommissioned; a new plan): the lifecycle pipelines' own
 * step, placed where the change becomes true. Rolling it back puts the tenant
 * back where this step found it, so a rolled-back or cancelled lifecycle job
 * leaves the status as it was.
 */
import { z } from 'zod';
import { PermanentError, TransientError } from '../domain/errors.ts';
import { isTenantStatus, moveTenant, TENANT_EVENTS, TENANT_STATUS_WORDS } from '../domain/tenant-status.ts';
import type { TenantPlace, TenantRecord } from '../ports/store.ts';
import { defineStep, type StepContext } from './step.ts';

const input = z.strictObject({
  slug: z.string().min(1),
  event: z.enum(TENANT_EVENTS),
  /** The plan the tenant is on once this step is done (plan changes). */
  plan: z.string().min(1).optional(),
  /** Once decommissioned, how long (ms) its slug stays reserved before another tenant may take it. */
  reserveSlugForMs: z.int().nonnegative().optional(),
});

type Input = z.output<typeof input>;

export const tenantStatusStep = defineStep({
  type: 'tenant_status',
  description: 'Moves the tenant to its next status (and plan), as the tenant status machine allows.',
  input,
  async run(ctx) {
    const tenant = await tenantOf(ctx);
    // A re-delivery after the move was recorded: the move is ours, so it is done.
    if (movedHere(tenant, ctx)) return { status: 'done', outputs: { from: tenant.movedBy?.from.status, to: tenant.status } };
    const move = moveTenant(tenant.slug, tenant, ctx.input.event);
    // The job was asked for once provisioning was live; the stored record follows the engine a moment later.
    if (!move.ok && !tenant.movedBy && tenant.status === 'provisioning')
      throw new TransientError(`${tenant.slug}'s record has not caught up with its provisioning yet`);
    if (!move.ok) throw new PermanentError(move.reason);
    const planId = ctx.input.plan ?? tenant.planId;
    const reserve = ctx.input.reserveSlugForMs;
    await ctx.services.tenants.moveTenant(
      tenant.slug,
      { ...move.state, ...(planId ? { planId } : {}), ...(reserve !== undefined ? { reservedUntil: Date.now() + reserve } : {}) },
      { jobId: ctx.jobId, stepId: ctx.stepId, from: fromOf(tenant) },
    );
    return { status: 'done', outputs: { from: tenant.status, to: move.state.status } };
  },
  async check(ctx) {
    const tenant = await tenantOf(ctx);
    return movedHere(tenant, ctx) ? { status: 'done' } : { status: 'missing', reason: `${tenant.slug} was not moved by this step` };
  },
  async rollback(ctx) {
    const tenant = await ctx.services.tenants.tenant(ctx.input.slug);
    // Moved on by someone else since, or never moved by us: nothing of ours to undo.
    if (!tenant || !movedHere(tenant, ctx) || !tenant.movedBy) return;
    const { from } = tenant.movedBy;
    await ctx.services.tenants.moveTenant(tenant.slug, from, { jobId: ctx.jobId, stepId: `${ctx.stepId}.undone`, from: fromOf(tenant) });
  },
  plan(cfg) {
    const plan = cfg.plan ? `, on the ${cfg.plan} plan` : '';
    const reserve = cfg.reserveSlugForMs !== undefined ? [`slug reserved for ${Math.round(cfg.reserveSlugForMs / 86_400_000)} days`] : [];
    return {
      summary: `Record "${cfg.event.replaceAll('_', ' ')}" in ${cfg.slug}'s status${plan}, if its status machine allows it`,
      resources: [
        {
          system: 'MongoDB',
          kind: 'tenant record',
          name: cfg.slug,
          place: "the provisioner's tenants",
          settings: [`event ${cfg.event}`, ...(cfg.plan ? [`plan ${cfg.plan}`] : []), ...reserve],
          unknown: [],
        },
      ],
    };
  },
  describe(cfg, outputs) {
    const to = outputs['to'];
    const words = typeof to === 'string' && isTenantStatus(to) ? TENANT_STATUS_WORDS[to] : 'moved on';
    return `Tenant ${cfg.slug} is ${words}${cfg.plan ? ` on the ${cfg.plan} plan` : ''}`;
  },
});

async function tenantOf(ctx: StepContext<Input>): Promise<TenantRecord> {
  const tenant = await ctx.services.tenants.tenant(ctx.input.slug);
  if (!tenant) throw new PermanentError(`there is no tenant "${ctx.input.slug}"`);
  return tenant;
}

function movedHere(tenant: TenantRecord, ctx: StepContext<Input>): boolean {
  return tenant.movedBy?.jobId === ctx.jobId && tenant.movedBy.stepId === ctx.stepId;
}

function fromOf(tenant: TenantRecord): TenantPlace {
  return { status: tenant.status, ...(tenant.previous ? { previous: tenant.previous } : {}), ...(tenant.planId ? { planId: tenant.planId } : {}) };
}
