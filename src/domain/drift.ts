/**
 * Drift between what a tenant pays for and what it has. Paid but not enabled
 * is lost value and a churn risk; enabled but not paid is an upsell the
 * account team does not know about. Flags and limits both drift.
 */

export type DriftItem = { kind: 'flag'; name: string } | { kind: 'limit'; name: string; paid: number | undefined; applied: number | undefined };

export type Drift = { paidNotEnabled: DriftItem[]; enabledNotPaid: DriftItem[] };

export type Applied = { flags: Readonly<Record<string, unknown>>; limits: Readonly<Record<string, unknown>> };
export type Paid = { flags: Readonly<Record<string, boolean>>; limits: Readonly<Record<string, number>> };

const numberOrUndefined = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/**
 * Compares the tenant's applied flags and limits with what billing pays for.
 * A flag is enabled only when stored as true (a hand-edited "yes" is not on).
 * A limit below what is paid is paid-not-enabled; above it, or set where
 * nothing is paid, is enabled-not-paid; a paid limit never applied is missing.
 */
export function driftOf(applied: Applied, paid: Paid): Drift {
  const drift: Drift = { paidNotEnabled: [], enabledNotPaid: [] };
  const flagNames = [...new Set([...Object.keys(paid.flags), ...Object.keys(applied.flags)])].sort();
  for (const name of flagNames) {
    const isPaid = paid.flags[name] === true;
    const isOn = applied.flags[name] === true;
    if (isPaid && !isOn) drift.paidNotEnabled.push({ kind: 'flag', name });
    if (isOn && !isPaid) drift.enabledNotPaid.push({ kind: 'flag', name });
  }
  const limitNames = [...new Set([...Object.keys(paid.limits), ...Object.keys(applied.limits)])].sort();
  for (const name of limitNames) {
    const paidValue = numberOrUndefined(paid.limits[name]);
    const appliedValue = numberOrUndefined(applied.limits[name]);
    if (paidValue === appliedValue) continue;
    const item: DriftItem = { kind: 'limit', name, paid: paidValue, applied: appliedValue };
    if (paidValue !== undefined && (appliedValue === undefined || appliedValue < paidValue)) drift.paidNotEnabled.push(item);
    else drift.enabledNotPaid.push(item);
  }
  return drift;
}

export const hasDrift = (drift: Drift): boolean => drift.paidNotEnabled.length > 0 || drift.enabledNotPaid.length > 0;

/** One line per item, in people's words: "audit_log", "users: pays for 25, has 10". */
export function driftLine(item: DriftItem): string {
  if (item.kind === 'flag') return item.name;
  const paid = item.paid === undefined ? 'pays for none' : `pays for ${item.paid.toLocaleString('en-US')}`;
  const applied = item.applied === undefined ? 'has none set' : `has ${item.applied.toLocaleString('en-US')}`;
  return `${item.name}: ${paid}, ${applied}`;
}

/** A stable key for a drift, so the nightly check posts only drift it has not posted (or been told to ignore) before. */
export function driftKey(drift: Drift): string {
  const part = (items: DriftItem[]) => items.map((i) => (i.kind === 'flag' ? `f:${i.name}` : `l:${i.name}=${i.paid}/${i.applied}`)).join(',');
  return `paid[${part(drift.paidNotEnabled)}]enabled[${part(drift.enabledNotPaid)}]`;
}
