/**
 * Programs that call the HTTP API (the product posting activation events, the
 * CRM asking for tenants): each has a name and a bearer token. Only SHA-256
 * hashes of tokens are configured, up to two per caller so a token can be
 * replaced without downtime (add the new hash, switch the caller, drop the
 * old one), and a presented token is compared with every hash in constant time.
 *
 * In configuration: API_CALLERS='product=sha256:<hex>|sha256:<hex>,salesforce=sha256:<hex>'.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type ApiCallers = ReadonlyMap<string, readonly string[]>;

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const HASH = /^sha256:([0-9a-f]{64})$/;
/** The current token and the one being replaced. */
const MAX_TOKENS = 2;

export function isCallerName(name: string): boolean {
  return NAME.test(name);
}

/** The callers and their token hashes (hex), or every problem with the text, each naming the caller or entry. */
export function parseApiCallers(text: string): { ok: true; callers: ApiCallers } | { ok: false; problems: string[] } {
  const callers = new Map<string, string[]>();
  const problems: string[] = [];
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const [name = '', hashes = '', ...extra] = entry.split('=').map((p) => p.trim());
    if (!isCallerName(name) || hashes === '' || extra.length > 0) {
      // Named by position, never quoted: it may be a token pasted by mistake.
      problems.push(`entry ${index + 1} should look like name=sha256:<64 hex digits> (names: lowercase letters, digits, - and _)`);
      continue;
    }
    const parsed = hashes.split('|').map((h) => HASH.exec(h.trim())?.[1]);
    if (parsed.some((h) => h === undefined)) problems.push(`${name}: each token hash must be sha256: followed by 64 lowercase hex digits`);
    else if (parsed.length > MAX_TOKENS) problems.push(`${name}: at most ${MAX_TOKENS} token hashes (the current token and the one being replaced)`);
    else if (callers.has(name)) problems.push(`${name}: named twice`);
    else
      callers.set(
        name,
        parsed.filter((h) => h !== undefined),
      );
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

/** The caller whose token this is, compared with every configured hash (none skipped, so the time says nothing). */
export function callerWithToken(token: string, callers: ApiCallers): string | undefined {
  const presented = Buffer.from(tokenHash(token), 'hex');
  let found: string | undefined;
  for (const [name, hashes] of callers) {
    for (const hash of hashes) {
      if (timingSafeEqual(presented, Buffer.from(hash, 'hex')) && found === undefined) found = name;
    }
  }
  return found;
}

/** The API_CALLERS value with `newHash` as the caller's current token, its current one kept as the one being replaced. */
export function callersWithNewToken(callers: ApiCallers, caller: string, newHash: string): string {
  const next = new Map(callers);
  next.set(caller, [newHash, ...(callers.get(caller) ?? []).slice(0, MAX_TOKENS - 1)]);
  return [...next].map(([name, hashes]) => `${name}=${hashes.map((h) => `sha256:${h}`).join('|')}`).join(',');
}
