/**
 * HMAC signatures for webhooks we send (and, later, requests we receive from
 * API callers): `v1=hex(HMAC_SHA256(secret, "<timestamp>.<body>"))`, the same
 * construction Slack and Stripe use, so replay windows can be enforced.
 */
import { createHmac } from 'node:crypto';
import { sameBytes } from './same-bytes.ts';

export const SIGNATURE_HEADER = 'x-provisioner-signature';
export const TIMESTAMP_HEADER = 'x-provisioner-timestamp';

export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** True only for a matching signature made within `toleranceS` seconds of `nowS`. */
export function verifySignature(opts: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  nowS: number;
  toleranceS?: number;
}): boolean {
  const ts = Number(opts.timestamp);
  if (!Number.isInteger(ts) || opts.signature === undefined) return false;
  if (Math.abs(opts.nowS - ts) > (opts.toleranceS ?? 300)) return false;
  return sameBytes(sign(opts.secret, ts, opts.body), opts.signature);
}
