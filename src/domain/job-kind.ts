/**
 * What a job does to its tenant. Provisioning makes the tenant; the others
 * change a tenant that exists (its plan, whether its people may sign in, its
 * entitlements from billing) or take it down. Each kind has its own pipeline
 * manifest and is run by the same engine, with the same gates and trail.
 */

export const JOB_KINDS = ['provision', 'change_plan', 'suspend', 'reactivate', 'decommission', 'sync_entitlements'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The kinds that act on a tenant after it was provisioned. */
export const LIFECYCLE_KINDS = ['change_plan', 'suspend', 'reactivate', 'decommission', 'sync_entitlements'] as const;
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];

export function isLifecycleKind(value: string): value is LifecycleKind {
  return (LIFECYCLE_KINDS as readonly string[]).includes(value);
}

/** A stored definition made before kinds existed is a provisioning job. */
export function kindOf(definition: { kind?: JobKind | undefined }): JobKind {
  return definition.kind ?? 'provision';
}

export type KindWords = {
  /** The progress message while it runs: "Suspending". */
  doing: string;
  /** Once done: "Suspended". */
  done: string;
  /** In sentences: "suspend", as in "asked to suspend acme". */
  verb: string;
  /** In job ids: short and safe in keys. */
  short: string;
};

export const KIND_WORDS: Readonly<Record<JobKind, KindWords>> = {
  provision: { doing: 'Provisioning', done: 'Live', verb: 'provision', short: 'prov' },
  change_plan: { doing: 'Changing the plan of', done: 'Plan changed for', verb: 'change the plan of', short: 'plan' },
  suspend: { doing: 'Suspending', done: 'Suspended', verb: 'suspend', short: 'suspend' },
  reactivate: { doing: 'Reactivating', done: 'Reactivated', verb: 'reactivate', short: 'reactivate' },
  decommission: { doing: 'Decommissioning', done: 'Decommissioned', verb: 'decommission', short: 'decom' },
  sync_entitlements: {
    doing: 'Applying billing entitlements to',
    done: 'Entitlements applied to',
    verb: 'apply billing entitlements to',
    short: 'sync',
  },
};

/** "Suspended acme", "Plan changed for acme": how a finished lifecycle job is announced. */
export function kindDoneWords(kind: LifecycleKind, slug: string): string {
  return `${KIND_WORDS[kind].done} ${slug}`;
}

/**
 * A lifecycle job's status in its kind's words, while it runs and once done ("Suspending acme",
 * "Suspended acme"); undefined where the job's status says it all (provisioning, a failure, a rollback).
 */
export function kindStatusWords(kind: JobKind, status: string, slug: string): string | undefined {
  if (kind === 'provision') return undefined;
  if (status === 'running') return `${KIND_WORDS[kind].doing} ${slug}`;
  if (status === 'live') return kindDoneWords(kind, slug);
  return undefined;
}
