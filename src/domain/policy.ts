/**
 * Who may do what to a provisioning job: one policy for every door (Slack,
 * the admin panel, the CLI, the HTTP API). Each door resolves the person or
 * caller into an Identity — Slack says who clicked, the web says who signed
 * in, the CLI names a configured operator, the API names a configured caller —
 * and the service asks this policy before it changes anything.
 */

/** The ways into the product; the audit names the door with the person. */
export type Door = 'slack' | 'web' | 'cli' | 'api';

/**
 * What a person can be allowed to do; granted by configuration, never by the door itself.
 * A reporter is a program that only tells us what tenants use (the product's activation events): it may not ask for tenants.
 */
export const ROLES = ['admin', 'approver', 'requester', 'reporter'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export type Identity = {
  door: Door;
  /** Stable id on its door: a Slack user id (Slack and the web, which signs in with Slack), an operator or caller name. */
  id: string;
  /** How the audit trail names them, e.g. "Dana Approver (U123)". */
  name: string;
  roles: ReadonlySet<Role>;
};

export const JOB_ACTIONS = ['provision', 'share_status', 'approve', 'reject', 'retry', 'override', 'provide_input', 'rollback', 'cancel'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

/** Who asked for the job, as the door that created it recorded them. */
export type Requester = { door: Door; id: string };

export type PolicySettings = {
  /** Whether the person who asked for a tenant may also approve it (four eyes by default). */
  allowSelfApproval: boolean;
};

export type Decision = { allowed: true } | { allowed: false; reason: string };

/** How the audit trail says where a person acted: "… overrode billing from the admin panel". */
export const DOOR_WORDS: Readonly<Record<Door, string>> = {
  slack: 'in Slack',
  web: 'from the admin panel',
  cli: 'from the CLI',
  api: 'through the API',
};

const ALLOW: Decision = { allowed: true };

/** Who may ask for tenants and share their status pages: everyone but a reporter. */
const REQUESTING_ROLES: readonly Role[] = ['admin', 'approver', 'requester'];

/** Actions approvers take on anyone's job; admins may do all of them and everything else. */
const APPROVER_ACTIONS: ReadonlySet<JobAction> = new Set(['approve', 'reject', 'retry', 'override', 'provide_input', 'rollback', 'cancel']);
/** What the person who asked for a tenant may do to their own job without being an approver. */
const OWN_JOB_ACTIONS: ReadonlySet<JobAction> = new Set(['provide_input', 'cancel']);

const VERB: Readonly<Record<JobAction, string>> = {
  provision: 'request',
  share_status: 'share customer status pages of',
  approve: 'approve',
  reject: 'reject',
  retry: 'retry steps of',
  override: 'override steps of',
  provide_input: 'provide input to',
  rollback: 'roll back',
  cancel: 'cancel',
};

/** True when this identity is the one that asked for the job (same door family and id). */
export function isRequester(who: Identity, requester: Requester | undefined): boolean {
  if (!requester) return false;
  // The web signs in with Slack, so a Slack user is the same person on both doors.
  const sameFamily = doorFamily(who.door) === doorFamily(requester.door);
  return sameFamily && who.id === requester.id;
}

function doorFamily(door: Door): 'slack' | 'cli' | 'api' {
  return door === 'web' ? 'slack' : door;
}

/**
 * The policy. `job` is absent for `provision` (there is no job yet).
 * Reasons are written for the person refused: what they cannot do and who can.
 */
export function decide(who: Identity, action: JobAction, settings: PolicySettings, job?: { requester: Requester | undefined }): Decision {
  const own = isRequester(who, job?.requester);
  // Anyone the product knows may ask for a tenant, or share how one is coming along with its customer.
  if (action === 'provision' || action === 'share_status') {
    return REQUESTING_ROLES.some((role) => who.roles.has(role))
      ? ALLOW
      : refuse(`You are not allowed to ${VERB[action]} tenants; ask an admin to add you as a requester.`);
  }
  if ((action === 'approve' || action === 'reject') && own && !settings.allowSelfApproval) {
    return refuse('You requested this tenant, so someone else has to approve or reject it.');
  }
  if (who.roles.has('admin')) return ALLOW;
  if (who.roles.has('approver') && APPROVER_ACTIONS.has(action)) return ALLOW;
  if (own && OWN_JOB_ACTIONS.has(action)) return ALLOW;
  const also = OWN_JOB_ACTIONS.has(action) ? ' (or the person who requested the tenant)' : '';
  return refuse(`Only approvers${also} can ${VERB[action]} provisioning jobs; ask one of the approvers.`);
}

/**
 * Who may change the step queue from its dashboard (Bull Board: retry, remove, clean, pause BullMQ jobs). Only
 * admins: such changes act on the machinery under the jobs, beside the job actions and their audit trail.
 * Everyone signed in may watch it.
 */
export function decideQueueChange(who: Identity): Decision {
  return who.roles.has('admin') ? ALLOW : refuse('Only admins can change the step queue; everyone signed in can watch it.');
}

function refuse(reason: string): Decision {
  return { allowed: false, reason };
}

/** What can be asked of a tenant once it exists: the lifecycle verbs. */
export const TENANT_ACTIONS = ['change_plan', 'suspend', 'reactivate', 'decommission', 'sync_entitlements'] as const;
export type TenantAction = (typeof TENANT_ACTIONS)[number];

const TENANT_VERB: Readonly<Record<TenantAction, string>> = {
  change_plan: 'change the plan of',
  suspend: 'suspend',
  reactivate: 'reactivate',
  decommission: 'decommission',
  sync_entitlements: 'apply billing entitlements to',
};

/** Billing sources call through the API with their own credentials; of the verbs, only these follow from what a customer pays. */
const BILLING_ACTIONS: ReadonlySet<TenantAction> = new Set(['suspend', 'reactivate', 'sync_entitlements']);

/**
 * Who may ask for a lifecycle change. Asking is not doing: suspending at a
 * person's request and decommissioning always wait for an approver (the
 * pipeline's gate, four eyes as for provisioning); this decides who may ask.
 * - anyone the product knows may ask for a plan change (downgrades below usage wait for approval);
 * - approvers and admins may suspend, reactivate and decommission; only admins apply entitlements by hand;
 * - a billing source (an API caller) may suspend, reactivate and apply entitlements, nothing else.
 */
export function decideTenantAction(who: Identity, action: TenantAction): Decision {
  if (who.door === 'api') {
    return BILLING_ACTIONS.has(action) ? ALLOW : refuse(`Only a person can ${TENANT_VERB[action]} a tenant; billing sources cannot.`);
  }
  if (action === 'change_plan') {
    // A reporter only tells us what tenants use: like asking for a tenant, changing its plan is for people who may request.
    const mayRequest = REQUESTING_ROLES.some((role) => who.roles.has(role));
    return mayRequest ? ALLOW : refuse('You are not allowed to change plans of tenants; ask an admin to add you as a requester.');
  }
  if (who.roles.has('admin')) return ALLOW;
  if (who.roles.has('approver') && action !== 'sync_entitlements') return ALLOW;
  const able = action === 'sync_entitlements' ? 'admins' : 'approvers';
  return refuse(`Only ${able} can ${TENANT_VERB[action]} tenants; ask one of them.`);
}

/** Anyone the product knows may read the KPIs: figures over all jobs, with no contract values or customer data beyond names. */
export function decideViewKpis(who: Identity): Decision {
  return who.roles.size > 0 ? ALLOW : refuse('You are not allowed to see the provisioning KPIs; ask an admin to add you as a requester.');
}

/** What a tenant's people use is reported by the product itself, through the API with its own token; people do not report it. */
export function decideReportActivation(who: Identity): Decision {
  return who.door === 'api' ? ALLOW : refuse('Activation events come from the product, through the API.');
}
