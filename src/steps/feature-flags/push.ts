/**
 * Optional push of the applied flags to a flags service, signed the same way
 * as the webhook step so one verifier serves both, and keyed so the receiver
 * can drop a repeat delivery.
 */
import { postSigned } from '../signed-post.ts';
import type { StepContext } from '../step.ts';

export const FLAGS_EVENT = 'tenant.features_applied';

/** POSTs the flags; resolves with the HTTP status of a 2xx answer. */
export function pushFlags(ctx: StepContext<unknown>, url: string, tenantId: string, flags: Record<string, boolean>): Promise<number> {
  return postSigned(ctx.services, {
    url,
    body: JSON.stringify({ event: FLAGS_EVENT, jobId: ctx.jobId, stepId: ctx.stepId, tenantId, features: flags }),
    idempotencyKey: `${ctx.idempotencyKey}.${FLAGS_EVENT}`,
    signal: ctx.signal,
    receiver: `flags service ${new URL(url).host}`,
    doing: ' to the feature flag push',
  });
}
