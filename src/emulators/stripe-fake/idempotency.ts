/**
 * Stripe's idempotency layer (docs.stripe.com/idempotency): a POST with an
 * `Idempotency-Key` is executed once per API key; the same key with the same
 * method, path and parameters replays the first result (status and body,
 * errors included) with `Idempotent-Replayed: true`; the same key with other
 * parameters is an `idempotency_error`. Keys are forgotten after 24 hours.
 */
import type { FormObject, FormValue } from './form.ts';

export type Reply = { status: number; body: unknown; headers: Record<string, string> };

type Saved = { fingerprint: string; reply: Reply; requestId: string; savedAt: number };

const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
export const MAX_KEY_LENGTH = 255;

/** Parameters with keys sorted, so the same request encoded in another order still matches. */
function canonical(value: FormValue): unknown {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(canonical);
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical(value[key] ?? '')]),
  );
}

export function fingerprint(method: string, path: string, params: FormObject): string {
  return JSON.stringify([method, path, canonical(params)]);
}

export type IdempotencyStore = {
  /** The saved result for this key, if it was saved less than 24 hours ago. */
  find(apiKey: string, key: string): Saved | undefined;
  save(apiKey: string, key: string, entry: Omit<Saved, 'savedAt'>): void;
};

export function createIdempotencyStore(): IdempotencyStore {
  const saved = new Map<string, Saved>();
  // Scoped per API key, as Stripe scopes keys per account and mode.
  const slot = (apiKey: string, key: string) => `${apiKey}\u0000${key}`;
  return {
    find(apiKey, key) {
      const entry = saved.get(slot(apiKey, key));
      if (entry === undefined || Date.now() - entry.savedAt > KEY_LIFETIME_MS) return undefined;
      return entry;
    },
    save(apiKey, key, entry) {
      saved.set(slot(apiKey, key), { ...entry, savedAt: Date.now() });
    },
  };
}
