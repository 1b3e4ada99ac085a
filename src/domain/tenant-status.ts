/**
 * The tenant's status, as one state machine: provisioning → live →
 * suspended ⇄ live → decommissioning → decommissioned, with the failed and
 * rolled-back branches of provisioning. Every change of status, whoever
 * asks for it, is checked here; a refusal says why in people's words.
 */
import { TenantTransitionRefusedError } from './errors.ts';
import type { JobStatus } from './job.ts';

export const TENANT_STATUSES = ['provisioning', 'live', 'failed', 'rolled_back', 'suspended', 'decommissioning', 'decommissioned'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export function isTenantStatus(value: string): value is TenantStatus {
  return (TENANT_STATUSES as readonly string[]).includes(value);
}

export const TENANT_EVENTS = [
  'went_live',
  'provisioning_failed',
  'provisioning_retried',
  'rolled_back',
  'suspend',
  'reactivate',
  'decommission',
  'cancel_decommission',
  'decommissioned',
  'change_plan',
  'sync_entitlements',
] as const;
export type TenantEvent = (typeof TENANT_EVENTS)[number];

/** `previous`: back to the status the tenant had before (a cancelled decommissioning); `same`: the status does not move. */
type Target = TenantStatus | 'previous' | 'same';

export const TENANT_TRANSITIONS: Readonly<Record<TenantEvent, { from: readonly TenantStatus[]; to: Target }>> = {
  went_live: { from: ['provisioning'], to: 'live' },
  provisioning_failed: { from: ['provisioning'], to: 'failed' },
  provisioning_retried: { from: ['failed'], to: 'provisioning' },
  rolled_back: { from: ['provisioning', 'failed'], to: 'rolled_back' },
  suspend: { from: ['live'], to: 'suspended' },
  reactivate: { from: ['suspended'], to: 'live' },
  decommission: { from: ['live', 'suspended'], to: 'decommissioning' },
  cancel_decommission: { from: ['decommissioning'], to: 'previous' },
  decommissioned: { from: ['decommissioning'], to: 'decommissioned' },
  change_plan: { from: ['live'], to: 'same' },
  sync_entitlements: { from: ['live', 'suspended'], to: 'same' },
};

export const TENANT_STATUS_WORDS: Readonly<Record<TenantStatus, string>> = {
  provisioning: 'still being provisioned',
  live: 'live',
  failed: 'stopped on a failed provisioning',
  rolled_back: 'rolled back',
  suspended: 'suspended',
  decommissioning: 'being decommissioned',
  decommissioned: 'decommissioned',
};

const EVENT_WORDS: Readonly<Record<TenantEvent, { verb: string; past: string }>> = {
  went_live: { verb: 'put live', past: 'put live' },
  provisioning_failed: { verb: 'mark as failed', past: 'marked as failed' },
  provisioning_retried: { verb: 'retry the provisioning of', past: 'retried' },
  rolled_back: { verb: 'roll back', past: 'rolled back' },
  suspend: { verb: 'suspend', past: 'suspended' },
  reactivate: { verb: 'reactivate', past: 'reactivated' },
  decommission: { verb: 'decommission', past: 'decommissioned' },
  cancel_decommission: { verb: 'cancel the decommissioning of', past: 'spared' },
  decommissioned: { verb: 'finish decommissioning', past: 'finished decommissioning' },
  change_plan: { verb: 'change the plan of', past: 'moved to another plan' },
  sync_entitlements: { verb: 'apply billing entitlements to', past: 'given billing entitlements' },
};

/** Statuses that already are what the event asks for, beyond its target (a decommissioned tenant needs no decommissioning). */
const ALREADY: Partial<Record<TenantEvent, readonly TenantStatus[]>> = {
  decommission: ['decommissioning', 'decommissioned'],
};

/** Where a tenant stands: its status, and the one it had before decommissioning began (to go back to if cancelled). */
export type TenantState = { status: TenantStatus; previous?: TenantStatus };

export type TenantMove = { ok: true; state: TenantState } | { ok: false; reason: string };

/** The state after `event`, or why the tenant cannot go through it. */
export function moveTenant(slug: string, current: TenantState, event: TenantEvent): TenantMove {
  const rule = TENANT_TRANSITIONS[event];
  if (!rule.from.includes(current.status)) return { ok: false, reason: refusal(slug, current.status, event) };
  if (rule.to === 'same') return { ok: true, state: current };
  if (rule.to === 'previous') return { ok: true, state: { status: current.previous ?? 'live' } };
  return { ok: true, state: rule.to === 'decommissioning' ? { status: rule.to, previous: current.status } : { status: rule.to } };
}

/** Whether a tenant in this status may go through the event at all (what a door offers; the service checks again). */
export function allowsEvent(status: TenantStatus, event: TenantEvent): boolean {
  return TENANT_TRANSITIONS[event].from.includes(status);
}

/** The same, throwing the named refusal: for services that stop at the first no. */
export function requireMove(slug: string, current: TenantState, event: TenantEvent): TenantState {
  const move = moveTenant(slug, current, event);
  if (!move.ok) throw new TenantTransitionRefusedError(move.reason, current.status, event);
  return move.state;
}

function refusal(slug: string, status: TenantStatus, event: TenantEvent): string {
  const rule = TENANT_TRANSITIONS[event];
  const words = EVENT_WORDS[event];
  if (rule.to === status || ALREADY[event]?.includes(status)) return `${slug} is already ${TENANT_STATUS_WORDS[status]}`;
  const allowed = rule.from.map((s) => TENANT_STATUS_WORDS[s]).join(' or ');
  return `You cannot ${words.verb} ${slug}: it is ${TENANT_STATUS_WORDS[status]}, and only a tenant that is ${allowed} can be ${words.past}`;
}

/**
 * A tenant's status while its provisioning job decides it: the job's status
 * in the tenant's terms. Once live, lifecycle jobs move it on.
 */
export function statusFromProvisioning(job: JobStatus): TenantStatus {
  if (job === 'live') return 'live';
  if (job === 'failed' || job === 'rolling_back' || job === 'rollback_failed') return 'failed';
  if (job === 'rolled_back' || job === 'cancelled' || job === 'rejected') return 'rolled_back';
  return 'provisioning';
}
