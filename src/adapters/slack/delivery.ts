/**
 * Posting to Slack through its bad moments. The WebClient already waits out
 * 429s and retries requests that failed over HTTP; what still reaches us is
 * Slack's own "try again" (internal_error, fatal_error, service_unavailable,
 * request_timeout come back as ok:false, which the SDK does not retry) and
 * requests the SDK gave up on. Those are tried again here, a bounded number
 * of times with growing pauses. Anything else (invalid_blocks,
 * channel_not_found…) would fail the same way again, so it is not.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WebAPIHTTPError, WebAPIPlatformError } from '@slack/web-api';

export type RetryPolicy = {
  /** Tries in all, the first included. */
  attempts: number;
  /** Pause after the first failure; doubled after each further one, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
};

/** About 45 s of trying in all: a Slack incident of that length costs no message. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, firstDelayMs: 500, maxDelayMs: 15_000 };

/** Slack's answers that mean "not now" rather than "not this". */
const TRY_AGAIN: ReadonlySet<string> = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

/** Worth another try: Slack said "not now", the network failed, or the failure was not Slack's answer at all (Redis). */
export function worthRetrying(err: unknown): boolean {
  if (err instanceof WebAPIPlatformError) return TRY_AGAIN.has(err.data.error);
  if (err instanceof WebAPIHTTPError) return err.statusCode >= 500 || err.statusCode === 429;
  return true;
}

/** Slack never took something we meant to post; the message says what is missing, for whoever reads the log. */
export class SlackDeliveryError extends Error {
  override readonly name: string = 'SlackDeliveryError';
}

/** Slack's error code when it gave one: short, and never holds the token. */
function slackSaid(err: unknown): string {
  if (err instanceof WebAPIPlatformError) return err.data.error;
  if (err instanceof WebAPIHTTPError) return `HTTP ${err.statusCode}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Calls `post` until it works, Slack gives an answer retrying cannot change,
 * or the policy runs out; then throws a SlackDeliveryError naming `what`.
 */
export async function deliver<T>(what: string, post: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await post();
    } catch (err) {
      if (!worthRetrying(err)) {
        throw new SlackDeliveryError(`Slack refused ${what} (${slackSaid(err)}); not retried, it would fail the same way`, { cause: err });
      }
      if (attempt >= policy.attempts) {
        throw new SlackDeliveryError(`Gave up on ${what} after ${attempt} attempts (${slackSaid(err)})`, { cause: err });
      }
      await sleep(Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1)));
    }
  }
}
