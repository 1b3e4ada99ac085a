/**
 * A lifecycle pipeline (manifests/lifecycle/<kind>.yaml): the steps of one
 * lifecycle kind, with the same shape as the provisioning pipeline, plus
 * when a person must approve the job before it runs.
 */
import { z } from 'zod';
import { PipelineStepSchema } from './graph.ts';
import type { LifecycleRequest } from './job-definition.ts';
import type { LifecycleKind } from './job-kind.ts';
import type { Plan } from './plan.ts';

const LifecycleApprovalSchema = z.strictObject({
  /** Every job of this kind waits for an approver (decommissioning must say true). */
  always: z.boolean().default(false),
  /** A job a person asked for waits for an approver; one a billing source asked for does not. */
  whenAskedByPerson: z.boolean().default(false),
});

export const LifecycleManifestSchema = z.strictObject({
  version: z.literal(1),
  approval: LifecycleApprovalSchema.prefault({}),
  steps: z.array(PipelineStepSchema).min(1),
});

export type LifecycleManifest = z.output<typeof LifecycleManifestSchema>;

/** Rules a lifecycle manifest must keep beyond its shape. */
export function checkLifecycleManifest(kind: LifecycleKind, manifest: LifecycleManifest): { path: (string | number)[]; message: string }[] {
  if (kind === 'decommission' && !manifest.approval.always) {
    return [{ path: ['approval', 'always'], message: 'decommissioning deletes a customer’s data, so it always needs approval: set always: true' }];
  }
  return [];
}

/** Why a person must approve this lifecycle job before it runs; [] when nobody needs to. */
export function lifecycleApprovalReasons(
  kind: LifecycleKind,
  manifest: Pick<LifecycleManifest, 'approval'>,
  asked: { byPerson: boolean },
  extra: readonly string[] = [],
): string[] {
  const reasons: string[] = [];
  if (kind === 'decommission' || manifest.approval.always) reasons.push(`${KIND_REASON[kind]} always needs approval`);
  else if (manifest.approval.whenAskedByPerson && asked.byPerson) reasons.push(`${KIND_REASON[kind]} asked for by a person needs approval`);
  return [...reasons, ...extra];
}

const KIND_REASON: Readonly<Record<LifecycleKind, string>> = {
  change_plan: 'A plan change',
  suspend: 'Suspending a tenant',
  reactivate: 'Reactivating a tenant',
  decommission: 'Decommissioning a tenant',
  sync_entitlements: 'Applying billing entitlements',
};

/**
 * A plausible request of each kind on the given plan, used only to check
 * step configs at load time (as a sample deal checks the provisioning pipeline).
 */
export function sampleRequest(kind: LifecycleKind, planId: string, plan: Plan): LifecycleRequest & { kind: LifecycleKind } {
  return {
    kind,
    requestKey: 'manifest-check',
    reason: 'manifest check',
    source: 'manifest check',
    fromPlan: planId,
    toPlan: planId,
    details: SAMPLE_DETAILS[kind](plan),
  };
}

/** What each kind's request carries in `details`, as steps read it (`${request.details.…}`). */
const SAMPLE_DETAILS: Readonly<Record<LifecycleKind, (plan: Plan) => Record<string, unknown>>> = {
  change_plan: (plan) => ({ fromPriceRef: plan.billing.priceRef }),
  suspend: () => ({}),
  reactivate: () => ({}),
  decommission: () => ({ provisioningJobId: 'sample-co-0123456789' }),
  sync_entitlements: (plan) => ({
    features: { ...plan.features },
    limits: { ...plan.limits },
    billing: { source: 'stripe', state: 'active', planId: 'sample', payment: 'paid', eventKey: 'stripe:evt_sample' },
  }),
};
