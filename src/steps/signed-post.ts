/**
 * One signed JSON POST, shared by the webhook step and the feature-flags push:
 * HMAC-signed with the webhook secret (src/domain/signature.ts) so receivers
 * verify every sender the same way, keyed so they can drop a repeat, and its
 * failure named as transient or permanent once.
 */
import { PermanentError, TransientError, errorMessage } from '../domain/errors.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, sign } from '../domain/signature.ts';
import type { StepServices } from '../ports/step-services.ts';

/** 408, 425, 429 and 5xx are worth retrying; any other 4xx means the request itself is wrong. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

export type SignedPost = {
  url: string;
  body: string;
  idempotencyKey: string;
  signal: AbortSignal;
  /** Who the receiver is, for messages: "webhook hooks.example.com", "flags service flags.internal". */
  receiver: string;
  /** Appended to a refusal, e.g. " to the feature flag push". */
  doing?: string;
};

/** Resolves with the HTTP status of a 2xx answer. */
export async function postSigned(services: Pick<StepServices, 'fetch' | 'webhookSigningSecret'>, post: SignedPost): Promise<number> {
  const timestamp = Math.floor(Date.now() / 1000);
  let response: Response;
  try {
    response = await services.fetch(post.url, {
      method: 'POST',
      body: post.body,
      signal: post.signal,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': post.idempotencyKey,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: sign(services.webhookSigningSecret, timestamp, post.body),
      },
    });
  } catch (err) {
    throw new TransientError(`${post.receiver} unreachable: ${errorMessage(err)}`);
  }
  await response.body?.cancel();
  if (response.ok) return response.status;
  const message = `${post.receiver} answered HTTP ${response.status}${post.doing ?? ''}`;
  throw isRetryable(response.status) ? new TransientError(message) : new PermanentError(message);
}
