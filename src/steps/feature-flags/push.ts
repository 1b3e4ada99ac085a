/**
 * Optional push of the applied flags to a flags service, signed the same way
 * as the webhook step (src/domain/signature.ts) so one verifier serves both,
 * and keyed so the receiver can drop a repeat delivery.
 */
import { PermanentError, TransientError, errorMessage } from '../../domain/errors.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, sign } from '../../domain/signature.ts';
import type { StepContext } from '../step.ts';

export const FLAGS_EVENT = 'tenant.features_applied';

/** 408, 425, 429 and 5xx are worth retrying; any other 4xx means the request itself is wrong. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** POSTs the flags; resolves with the HTTP status of a 2xx answer. */
export async function pushFlags(
  ctx: StepContext<unknown>,
  url: string,
  tenantId: string,
  flags: Record<string, boolean>,
): Promise<number> {
  const host = new URL(url).host;
  const body = JSON.stringify({ event: FLAGS_EVENT, jobId: ctx.jobId, stepId: ctx.stepId, tenantId, features: flags });
  const timestamp = Math.floor(Date.now() / 1000);
  let response: Response;
  try {
    response = await ctx.services.fetch(url, {
      method: 'POST',
      body,
      signal: ctx.signal,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': `${ctx.idempotencyKey}.${FLAGS_EVENT}`,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: sign(ctx.services.webhookSigningSecret, timestamp, body),
      },
    });
  } catch (err) {
    throw new TransientError(`flags service ${host} unreachable: ${errorMessage(err)}`);
  }
  await response.body?.cancel();
  if (response.ok) return response.status;
  const message = `flags service ${host} answered HTTP ${response.status} to the feature flag push`;
  throw isRetryable(response.status) ? new TransientError(message) : new PermanentError(message);
}
