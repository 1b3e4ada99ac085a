/**
 * What a plan change may do. It re-runs what the plan touches (flags, limits,
 * the billing subscription); it never moves a tenant's data between a shared
 * and a dedicated database, so such a change is refused with the reason.
 */
import type { Plan } from './plan.ts';

/** Why moving from one plan to the other is not a plan change; undefined when it is one. */
export function planChangeRefusal(slug: string, from: { id: string; plan: Plan }, to: { id: string; plan: Plan }): string | undefined {
  if (from.id === to.id) return `${slug} is already on the ${to.plan.displayName} plan`;
  if (from.plan.isolation !== to.plan.isolation) {
    return (
      `${slug} cannot move from ${from.plan.displayName} (${from.plan.isolation} database) to ${to.plan.displayName} (${to.plan.isolation} database): ` +
      'a plan change does not move a tenant’s data between a shared and a dedicated database. Provision a new tenant on that plan and migrate the data instead'
    );
  }
  return undefined;
}

/** How many users a plan allows (the `users` limit of plans.yaml's tenantLimits); undefined when the plan sets none. */
export function userLimit(plan: Pick<Plan, 'limits'>): number | undefined {
  const limits: Readonly<Record<string, number>> = plan.limits;
  return limits['users'];
}

/**
 * Why a move to this plan needs an approver because the tenant uses more than it allows, naming the
 * overage ("40 active users, the Starter plan allows 25: 15 over"); undefined when it fits.
 */
export function overageReason(activeUsers: number, to: { plan: Plan }): string | undefined {
  const limit = userLimit(to.plan);
  if (limit === undefined || activeUsers <= limit) return undefined;
  return `Downgrade below current usage: ${activeUsers} active users, the ${to.plan.displayName} plan allows ${limit} (${activeUsers - limit} over)`;
}
