/**
 * Secrets never reach logs, Slack or the audit trail: everything stored or
 * printed goes through here first. Keys are also made safe for MongoDB-wire
 * servers (no "." and no leading "$").
 */

const SECRET_KEY = /(secret|password|passwd|token|api[_-]?key|private[_-]?key|authorization|credential|signature|cookie)/i;
/** Well-known credential shapes, caught even under an innocent key. */
const SECRET_VALUE =
  /\b(sk|rk)_(live|test)_[A-Za-z0-9]{8,}|\bwhsec_[A-Za-z0-9]{8,}|\bxox[abposr]-[A-Za-z0-9-]{8,}|\bxapp-[A-Za-z0-9-]{8,}|\bAKIA[0-9A-Z]{16}\b|\bSSWS\s+[A-Za-z0-9_-]{8,}|\bBearer\s+[A-Za-z0-9._-]{8,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g;

export const REDACTED = '[redacted]';

/** A field whose name says it holds a secret (token, password, apiKey, authorization…). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactText(text: string): string {
  return text.replace(SECRET_VALUE, REDACTED);
}

function safeKey(key: string): string {
  return key.replace(/\./g, '_').replace(/^\$/, '_');
}

/** A deep copy with secret-looking keys and values replaced, and keys made storable. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date) return value;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[safeKey(k)] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

export function redactRecord(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[safeKey(k)] = SECRET_KEY.test(k) ? REDACTED : redact(v, 1);
  return out;
}
