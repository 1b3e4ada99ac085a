/**
 * Values signed with the server's secret (HMAC-SHA256, base64url): session
 * cookies and one-time sign-in links. A value that was changed, or signed
 * with another secret, never verifies; comparison is constant-time.
 */
import { createHmac } from 'node:crypto';
import { sameBytes } from '../../domain/same-bytes.ts';

function mac(secret: string, purpose: string, payload: string): string {
  return createHmac('sha256', secret).update(`${purpose}\n${payload}`).digest('base64url');
}

/** `<payload>.<mac>`, where the payload is base64url JSON. `purpose` keeps a cookie from passing as a link and back. */
export function sign(secret: string, purpose: string, value: unknown): string {
  const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${payload}.${mac(secret, purpose, payload)}`;
}

/** The value inside a signed string, or undefined when it was not signed by us for this purpose. */
export function unsign(secret: string, purpose: string, signed: string): unknown {
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const payload = signed.slice(0, dot);
  if (!sameBytes(signed.slice(dot + 1), mac(secret, purpose, payload))) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
