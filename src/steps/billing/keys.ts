/**
 * Idempotency keys for Stripe creates: the step's key (the same on every
 * attempt), what is being created, and a digest of the parameters. A retry
 * of the same request reuses the key, so Stripe replays the first result
 * instead of creating twice; a request whose parameters changed (say, after
 * someone fixed billing.priceRef) gets a new key instead of Stripe's
 * idempotency_error for the next 24 hours. Duplicates across changed
 * parameters are prevented by looking up before creating.
 */
import { createHash } from 'node:crypto';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted, so equal parameters always give the same digest. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    isRecord(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  );
}

export function creationKey(stepKey: string, object: string, params: unknown): string {
  const digest = createHash('sha256').update(canonicalJson(params)).digest('hex').slice(0, 16);
  return `${stepKey}.${object}.${digest}`;
}
