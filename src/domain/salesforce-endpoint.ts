/**
 * Who may post Salesforce Outbound Messages. Salesforce does not sign them,
 * so a message is taken only from a configured organization (its id, in the
 * 15- or 18-character form: the 18 are the 15, case-sensitive, plus a
 * 3-character case checksum) and only with the endpoint's secret path segment,
 * of which only SHA-256 hashes are configured (two while one replaces the
 * other), compared in constant time like API tokens.
 */
import { tokenMatchesAny } from './api-callers.ts';

export type SalesforceEndpoint = {
  /** Allowed organization ids, each in its 15-character form. */
  orgIds: readonly string[];
  /** SHA-256 hashes (hex) of the endpoint's secret path segment. */
  secretHashes: readonly string[];
};

const ORG_ID = /^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;
const HASH = /^sha256:([0-9a-f]{64})$/;
const MAX_SECRETS = 2;

/** The 15-character form of a Salesforce id (the 18-character form only adds a case checksum). */
export function shortId(id: string): string {
  return id.slice(0, 15);
}

export function parseOrgIds(text: string): { ok: true; orgIds: string[] } | { ok: false; problems: string[] } {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const problems = entries.flatMap((id, index) =>
    ORG_ID.test(id) ? [] : [`entry ${index + 1} is not an organization id (15 or 18 letters and digits starting with 00D)`],
  );
  return problems.length > 0 ? { ok: false, problems } : { ok: true, orgIds: [...new Set(entries.map(shortId))] };
}

export function parseSecretHashes(text: string): { ok: true; hashes: string[] } | { ok: false; problems: string[] } {
  const entries = text
    .split('|')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length > MAX_SECRETS) return { ok: false, problems: [`at most ${MAX_SECRETS} hashes (the current secret and the one being replaced)`] };
  const hashes = entries.map((e) => HASH.exec(e)?.[1]);
  // Never quoted: a secret pasted instead of its hash must not reach a log.
  if (hashes.some((h) => h === undefined)) return { ok: false, problems: ['each hash must be sha256: followed by 64 lowercase hex digits'] };
  return { ok: true, hashes: hashes.filter((h) => h !== undefined) };
}

/** Whether the message's organization is one configured; case matters (Salesforce ids are case-sensitive in 15 characters). */
export function orgAllowed(orgId: string, endpoint: SalesforceEndpoint): boolean {
  return endpoint.orgIds.includes(shortId(orgId));
}

/** Whether `secret` is the endpoint's secret, compared with every configured hash (none skipped, so the time says nothing). */
export function secretMatches(secret: string, endpoint: SalesforceEndpoint): boolean {
  return tokenMatchesAny(secret, endpoint.secretHashes);
}
