/**
 * Whether two secrets' bytes are the same, compared in constant time (how
 * long it takes says nothing about where they differ). Strings are compared
 * as their UTF-8 bytes. Lengths are not secret: a signature's or token's
 * length is public, so a different length answers at once.
 */
import { timingSafeEqual } from 'node:crypto';

export function sameBytes(a: Buffer | string, b: Buffer | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a) : a;
  const y = typeof b === 'string' ? Buffer.from(b) : b;
  return x.length === y.length && timingSafeEqual(x, y);
}
