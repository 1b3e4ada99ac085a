/** Form bodies and query strings as plain records, whatever arrived (a repeated field keeps its first value). */
export function fieldsOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === null || typeof value !== 'object') return out;
  for (const [key, raw] of Object.entries(value)) {
    const first: unknown = Array.isArray(raw) ? raw[0] : raw;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}
