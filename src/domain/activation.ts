/**
 * Time to first value: the product tells us when a tenant's people first use
 * a workflow (an activation event), and the KPIs count, per live tenant, the
 * workflows in use 1, 7 and 30 days after it went live, and how long the
 * first one took. Only the first use of each workflow matters here.
 */
import { z } from 'zod';
import { DAY_MS, mean, spreadOf, type Spread } from './kpi-maths.ts';
import { hasVisibleCharacter, unsafeCharacter } from './text-safety.ts';

/** The product's activation event as it posts it: `id` is its own, and makes a redelivery harmless. */
export type ActivationEvent = { id: string; workflow: string; at: Date };

/** An event more than this far in the future is a clock or a bug, not a use. */
const FUTURE_SLACK_MS = 5 * 60_000;

const name = (what: string) =>
  z
    .string({ error: `${what} must be text` })
    .min(1, { error: `${what} must not be empty` })
    .max(200, { error: `${what} must be at most 200 characters` })
    .refine((text) => unsafeCharacter(text) === undefined, { error: `${what} must not hold control or invisible characters` })
    .refine(hasVisibleCharacter, { error: `${what} must hold a visible character` });

/** The activation event as the product posts it (the HTTP API documents its body from this). */
export function activationEventSchema(now: Date) {
  return z.strictObject(
    {
      id: name('id'),
      workflow: name('workflow'),
      at: z.iso
        .datetime({ offset: true, error: 'at must be an ISO 8601 date and time, e.g. 2026-12-01T09:30:00Z' })
        .transform((text) => new Date(text))
        .refine((at) => at.getTime() <= now.getTime() + FUTURE_SLACK_MS, { error: 'at must not be in the future' })
        .optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length === 1 ? '' : 's'}` : 'must be a JSON object') },
  );
}

export type ActivationParse = { ok: true; event: ActivationEvent } | { ok: false; problems: { field: string; message: string }[] };

/** Checks a posted event; `at` defaults to when it arrived. Every problem names its field. */
export function parseActivationEvent(raw: unknown, now: Date): ActivationParse {
  const parsed = activationEventSchema(now).safeParse(raw);
  if (parsed.success) return { ok: true, event: { id: parsed.data.id, workflow: parsed.data.workflow, at: parsed.data.at ?? now } };
  const problems = parsed.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: key, message: `${key} is not a field of an activation event` }));
    const field = issue.path.map(String).join('.');
    return [{ field: field === '' ? 'body' : field, message: issue.message }];
  });
  // One problem per field: the first says what to fix.
  return { ok: false, problems: problems.filter((p, i) => problems.findIndex((q) => q.field === p.field) === i) };
}

/** The first time a tenant used a workflow. */
export type FirstActivation = { tenantSlug: string; workflow: string; firstAt: number };

/** A tenant that went live, as the activation KPIs need it. */
export type LiveTenant = { tenantSlug: string; companyName: string; planId: string; liveAt: number };

export const ACTIVATION_DAYS = [1, 7, 30] as const;
export type ActivationDay = (typeof ACTIVATION_DAYS)[number];

export type TenantActivation = LiveTenant & {
  /** Workflows first used by the end of day N after going live; absent until N days have passed. */
  workflowsBy: Partial<Record<ActivationDay, number>>;
  /** From going live to the first workflow used (0 when used before); absent when none is used yet. */
  firstActivationMs?: number;
};

export type ActivationReport = {
  /** Newest live first. */
  tenants: TenantActivation[];
  /** Of the tenants live at least N days, the mean number of workflows used by day N, and how many such tenants. */
  byDay: { day: ActivationDay; tenants: number; meanWorkflows?: number }[];
  /** From going live to the first workflow used, over the tenants that used one. */
  firstActivation: Spread;
};

/** Activation figures for each live tenant, from the first uses the product reported. */
export function activationReport(live: readonly LiveTenant[], firsts: readonly FirstActivation[], now: number): ActivationReport {
  const byTenant = new Map<string, number[]>();
  for (const f of firsts) {
    const uses = byTenant.get(f.tenantSlug);
    if (uses) uses.push(f.firstAt);
    else byTenant.set(f.tenantSlug, [f.firstAt]);
  }
  const tenants = [...live]
    .sort((a, b) => b.liveAt - a.liveAt)
    .map((t): TenantActivation => {
      const uses = (byTenant.get(t.tenantSlug) ?? []).map((at) => Math.max(0, at - t.liveAt));
      const workflowsBy: Partial<Record<ActivationDay, number>> = {};
      for (const day of ACTIVATION_DAYS) {
        if (now - t.liveAt >= day * DAY_MS) workflowsBy[day] = uses.filter((ms) => ms <= day * DAY_MS).length;
      }
      const first = uses.length > 0 ? Math.min(...uses) : undefined;
      return { ...t, workflowsBy, ...(first === undefined ? {} : { firstActivationMs: first }) };
    });
  const byDay = ACTIVATION_DAYS.map((day) => {
    const counted = tenants.flatMap((t) => (t.workflowsBy[day] === undefined ? [] : [t.workflowsBy[day]]));
    const m = mean(counted);
    return { day, tenants: counted.length, ...(m === undefined ? {} : { meanWorkflows: m }) };
  });
  const firstActivation = spreadOf(tenants.flatMap((t) => (t.firstActivationMs === undefined ? [] : [t.firstActivationMs])));
  return { tenants, byDay, firstActivation };
}
