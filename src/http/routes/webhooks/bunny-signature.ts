/**
 * Bunny's `x-bunny-signature`: lowercase hex HMAC-SHA1 of the body, keyed with
 * the platform's signing token, no prefix. Which bytes are signed differs
 * between Bunny's own sources: its docs, Ruby client and the current Node
 * client (bunny-node src/webhooks.ts) hash the body as received; the older
 * Node client (src/webhooks.js, @bunnyapp/api-client ≤ 2.x) and Bunny's
 * sample apps hash JSON.stringify of the parsed body. They agree only for
 * compact JSON without escapes that re-serialise differently, so the raw body
 * is checked first and the re-serialised form is accepted as well. Both
 * comparisons take constant time.
 */
import { createHmac } from 'node:crypto';
import { sameBytes } from '../../../domain/same-bytes.ts';

export const BUNNY_SIGNATURE_HEADER = 'x-bunny-signature';

export const bunnySignature = (token: string, bytes: Buffer | string): string => createHmac('sha1', token).update(bytes).digest('hex');

function same(expectedHex: string, givenHex: string): boolean {
  return sameBytes(Buffer.from(expectedHex, 'hex'), Buffer.from(givenHex, 'hex'));
}

/** Which form of the body the signature covers, or undefined when it covers neither. */
export function verifyBunnySignature(raw: Buffer, header: string | undefined, token: string): 'raw' | 'reserialised' | undefined {
  const given = header?.trim().toLowerCase() ?? '';
  if (!/^[0-9a-f]{40}$/.test(given)) return undefined;
  if (same(bunnySignature(token, raw), given)) return 'raw';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  return same(bunnySignature(token, JSON.stringify(parsed)), given) ? 'reserialised' : undefined;
}
