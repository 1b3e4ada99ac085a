/**
 * Programs that call the HTTP API (the product posting activation events, the
 * CRM asking for tenants): each has a name, roles (what the policy lets it do;
 * requester unless configured otherwise) and a bearer token. Only SHA-256
 * hashes of tokens are configured, up to two per caller so a token can be
 * replaced without downtime (add the new hash, switch the caller, drop the
 * old one), and a presented token is compared with every hash in constant time.
 *
 * In configuration: API_CALLERS='product=sha256:<hex>|sha256:<hex>,salesforce:requester=sha256:<hex>'
 * (roles after ":", joined with "+").
 */
import { createHash, randomBytes } from 'node:crypto';
import { sameBytes } from './same-bytes.ts';
import { isRole, ROLES, type Role } from './policy.ts';

/** Token hashes (hex), the current one first; roles as the policy reads them. */
export type ApiCaller = { hashes: readonly string[]; roles: ReadonlySet<Role> };
export type ApiCallers = ReadonlyMap<string, ApiCaller>;

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const HASH = /^sha256:([0-9a-f]{64})$/;
/** The current token and the one being replaced. */
const MAX_TOKENS = 2;
/** A program that calls the API asks for tenants (and reports what they use); more only when configured. */
const DEFAULT_ROLES: readonly Role[] = ['requester'];

export function isCallerName(name: string): boolean {
  return NAME.test(name);
}

/** The callers with their roles and token hashes, or every problem with the text, each naming the caller or entry. */
export function parseApiCallers(text: string): { ok: true; callers: ApiCallers } | { ok: false; problems: string[] } {
  const callers = new Map<string, ApiCaller>();
  const problems: string[] = [];
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const [who = '', hashes = '', ...extra] = entry.split('=').map((p) => p.trim());
    const [name = '', roleText, ...moreColons] = who.split(':').map((p) => p.trim());
    if (!isCallerName(name) || hashes === '' || extra.length > 0 || moreColons.length > 0) {
      // Named by position, never quoted: it may be a token pasted by mistake.
      problems.push(
        `entry ${index + 1} should look like name=sha256:<64 hex digits> or name:role=sha256:<64 hex digits> (names: lowercase letters, digits, - and _)`,
      );
      continue;
    }
    const roles = roleText === undefined ? [...DEFAULT_ROLES] : roleText.split('+').map((r) => r.trim());
    const unknownRoles = roles.filter((r) => !isRole(r));
    const parsed = hashes.split('|').map((h) => HASH.exec(h.trim())?.[1]);
    if (unknownRoles.length > 0) problems.push(`${name}: unknown role "${unknownRoles.join('", "')}" (roles: ${ROLES.join(', ')})`);
    else if (parsed.some((h) => h === undefined)) problems.push(`${name}: each token hash must be sha256: followed by 64 lowercase hex digits`);
    else if (parsed.length > MAX_TOKENS) problems.push(`${name}: at most ${MAX_TOKENS} token hashes (the current token and the one being replaced)`);
    else if (callers.has(name)) problems.push(`${name}: named twice`);
    else callers.set(name, { hashes: parsed.filter((h) => h !== undefined), roles: new Set(roles.filter(isRole)) });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, callers };
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new random token (256 bits); shown once, never stored. */
export function newApiToken(): string {
  return `prov_${randomBytes(32).toString('base64url')}`;
}

/** Whether `token` hashes to one of `hashes`, compared with every one (none skipped, so the time says nothing). */
export function tokenMatchesAny(token: string, hashes: readonly string[]): boolean {
  const presented = Buffer.from(tokenHash(token), 'hex');
  let matched = false;
  for (const hash of hashes) {
    if (sameBytes(presented, Buffer.from(hash, 'hex'))) matched = true;
  }
  return matched;
}

/** The caller whose token this is, every caller's hashes compared (none skipped, so the time says nothing). */
export function callerWithToken(token: string, callers: ApiCallers): string | undefined {
  let found: string | undefined;
  for (const [name, caller] of callers) {
    if (tokenMatchesAny(token, caller.hashes) && found === undefined) found = name;
  }
  return found;
}

/**
 * How the audit trail and Slack name a caller: "salesforce" → "Salesforce",
 * "product-analytics" → "Product Analytics", and a word without vowels is an
 * acronym: "crm" → "CRM", "sfdc" → "SFDC". The door adds "through the API".
 */
export function callerDisplayName(name: string): string {
  return name
    .split(/[-_]+/)
    .filter(Boolean)
    .map((word) => (/[aeiouy]/.test(word) ? `${word.charAt(0).toUpperCase()}${word.slice(1)}` : word.toUpperCase()))
    .join(' ');
}

/** The API_CALLERS value that configures exactly these callers (roles written out only when not the default). */
export function apiCallersValue(callers: ApiCallers): string {
  return [...callers]
    .map(([name, { hashes, roles }]) => {
      const isDefault = roles.size === DEFAULT_ROLES.length && DEFAULT_ROLES.every((r) => roles.has(r));
      return `${name}${isDefault ? '' : `:${[...roles].join('+')}`}=${hashes.map((h) => `sha256:${h}`).join('|')}`;
    })
    .join(',');
}

/** The API_CALLERS value with `newHash` as the caller's current token, its current one kept as the one being replaced. */
export function callersWithNewToken(callers: ApiCallers, caller: string, newHash: string): string {
  const next = new Map(callers);
  const current = callers.get(caller);
  next.set(caller, { hashes: [newHash, ...(current?.hashes ?? []).slice(0, MAX_TOKENS - 1)], roles: current?.roles ?? new Set(DEFAULT_ROLES) });
  return apiCallersValue(next);
}

/**
 * The API_CALLERS value without one of the caller's token hashes: `hash`, or
 * by default the one being replaced (the last). A caller left with no token
 * is left out altogether: it can no longer call the API.
 */
export function callersWithoutToken(callers: ApiCallers, caller: string, hash?: string): string {
  const next = new Map(callers);
  const current = callers.get(caller);
  if (!current) return apiCallersValue(next);
  const revoked = hash ?? current.hashes.at(-1);
  const kept = current.hashes.filter((h) => h !== revoked);
  if (kept.length === 0) next.delete(caller);
  else next.set(caller, { hashes: kept, roles: current.roles });
  return apiCallersValue(next);
}
