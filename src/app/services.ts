/**
 * One function per verb (provision, approve, reject, provide input, retry,
 * override, roll back, cancel, status, audit, list). The CLI and the Slack app
 * (slash command, modal, buttons) both call these, and any door added later
 * must too, so rules, audit and state changes live in one place.
 */
import { staleFailure, StaleFailureError, type OperatorAction } from '../domain/actions.ts';
import { auditText, type AuditEntry } from '../domain/audit.ts';
import { ActionRefusedError, InvalidInputError, NotAllowedError } from '../domain/errors.ts';
import type { EventType, JobEvent } from '../domain/events.ts';
import type { StepPatch } from '../domain/job-patch.ts';
import { buildJobDefinition, type InputCatalogue, type JobDefinition } from '../domain/job-definition.ts';
import { stepLabel, type JobView } from '../domain/job-view.ts';
import type { JobStatus } from '../domain/job.ts';
import { planNamed } from '../domain/plan.ts';
import { crmRequestSchema, parseIntake, type Intake, type TenantSettings } from '../domain/intake.ts';
import { decide, DOOR_WORDS, type Decision, type Identity, type JobAction, type PolicySettings } from '../domain/policy.ts';
import { redactText } from '../domain/redact.ts';
import { jobStatusWords, listWords, typedBack } from '../domain/wording.ts';
import type { Engine } from '../engine/engine.ts';
import type { JobState } from '../engine/job-state.ts';
import type { Manifests } from '../manifests/load.ts';
import type { StatusLinks } from './status-links.ts';
import { LifecycleService } from './lifecycle.ts';
import type { JobStore } from '../ports/store.ts';
import type { OpportunityIndex } from '../ports/opportunities.ts';
import { Submissions, type ProvisionResult } from './submission.ts';
import type { TenantUsage } from '../ports/tenant-usage.ts';
import type { Placement } from '../ports/step-services.ts';
import type { JobPreview } from '../domain/preview.ts';
import { previewDefinition, previewRequest, type Planners } from './preview.ts';

export type ServiceDeps = {
  engine: Engine;
  store: JobStore;
  /** Where each CRM opportunity's job is, found without a scan of the store. */
  opportunities: OpportunityIndex;
  manifests: Manifests;
  settings: TenantSettings;
  catalogue: InputCatalogue;
  /** The authorisation policy's settings (self-approval). */
  policy: PolicySettings;
  /** What tenants use now (their active users), checked before a downgrade; without it, downgrades are not checked. */
  usage?: TenantUsage;
  /** Customer status links, and where their pages are served (the web server's address). */
  statusPages?: { links: StatusLinks; baseUrl(): string };
  /** The step types' plans and where the deployment puts things, for dry-run previews. */
  preview?: { planners: Planners; placement: Placement };
  now?: () => Date;
};

export type { ProvisionResult } from './submission.ts';

export type ProvisionOptions = {
  /** Refuse a body naming its requester (the API's: its caller is the requester), rather than overriding it silently. */
  refuseRequestedBy?: boolean;
};

const REQUESTED_BY_REFUSED = { field: 'requestedBy', message: 'The requester is the caller your API token names; leave requestedBy out' };

/** Someone acting on a job, resolved by their door: who they are, where, and what they may do. */
export type { Identity } from '../domain/policy.ts';

/** How much of a tenant's trail an audit answer holds: its newest entries, far more than a person reads. */
const AUDIT_PAGE = 2000;
const ACTIVE: readonly JobStatus[] = ['running', 'awaiting_approval', 'awaiting_input', 'failed', 'rolling_back', 'rollback_failed'];

export class ProvisioningService {
  private readonly deps: ServiceDeps;
  /** The verbs for a tenant that exists (change plan, suspend, reactivate, decommission, entitlements). */
  readonly lifecycle: LifecycleService;
  private readonly submissions: Submissions;

  constructor(deps: ServiceDeps) {
    this.deps = deps;
    this.lifecycle = new LifecycleService(deps);
    this.submissions = new Submissions({ ...deps, plans: deps.manifests.plans, now: () => this.now() });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /**
   * Validates the intake, stores the job and starts it. The same deal twice
   * gives the same job; another deal naming the same CRM opportunity, or a
   * slug another tenant holds, is refused.
   */
  async provision(raw: unknown, who: Identity, opts: ProvisionOptions = {}): Promise<ProvisionResult> {
    const { manifests } = this.deps;
    this.allow(who, 'provision');
    // The requester is whoever the door says asked, whatever the body claims.
    const parsed = parseIntake(withRequester(raw, who), manifests.plans, this.now());
    const claimed = opts.refuseRequestedBy && hasRequestedBy(raw) ? [REQUESTED_BY_REFUSED] : [];
    if (!parsed.ok || claimed.length > 0) throw new InvalidInputError([...claimed, ...(parsed.ok ? [] : parsed.errors)]);
    const definition = this.defined(parsed.intake, who);
    if (definition.ok) return this.submissions.submit(definition.definition);
    // A deal sent again is answered with its job even if it could not be defined today (a manifest changed since, say).
    const existing = await this.submissions.existing(parsed.intake);
    if (existing) return existing;
    throw definition.refusal;
  }

  /**
   * A program asks for a tenant from a CRM deal (the HTTP API, Salesforce's
   * outbound messages): the caller is the requester, so a body naming another
   * is refused. The same deal again gives its job (created: false); another
   * deal on the same opportunity throws OpportunityTakenError naming the
   * differing fields; bad values throw InvalidInputError, a caller the policy
   * refuses NotAllowedError.
   */
  async requestFromCrm(values: unknown, caller: Identity): Promise<{ job: JobView; created: boolean }> {
    const { outcome, job } = await this.provision(values, caller, { refuseRequestedBy: true });
    return { job, created: outcome === 'created' };
  }

  /** What requestFromCrm takes, as zod schemas of the intake's own fields (the API's OpenAPI document is generated from it). */
  crmRequestSchema() {
    return crmRequestSchema(this.deps.manifests.plans, this.now());
  }

  /** What provisioning this intake would create, where, and who must approve: validated like provision, and nothing is stored. */
  preview(raw: unknown, who: Identity): JobPreview {
    this.allow(who, 'provision');
    const { manifests, settings, catalogue } = this.deps;
    return previewRequest(raw, who, { manifests, settings, catalogue, ...this.previewDeps(), now: this.now() });
  }

  /** The plan a stored job was started with, recomputed from its definition (deterministic). */
  previewOf(definition: JobDefinition): JobPreview {
    return previewDefinition(definition, { manifests: this.deps.manifests, ...this.previewDeps() });
  }

  private previewDeps(): { planners: Planners; placement: Placement } {
    if (!this.deps.preview) throw new ActionRefusedError('previews are not configured in this process');
    return this.deps.preview;
  }

  /** The job this intake makes, or the refusal naming what cannot be defined. */
  private defined(intake: Intake, who: Identity): { ok: true; definition: JobDefinition } | { ok: false; refusal: InvalidInputError } {
    try {
      return { ok: true, definition: this.define(intake, who) };
    } catch (err) {
      if (err instanceof InvalidInputError) return { ok: false, refusal: err };
      throw err;
    }
  }

  private define(intake: Intake, who: Identity): JobDefinition {
    const { manifests } = this.deps;
    const plan = planNamed(manifests.plans, intake.plan);
    if (!plan) throw new InvalidInputError([{ field: 'plan', message: `unknown plan "${intake.plan}"` }]);
    const built = buildJobDefinition({
      intake,
      plan,
      planId: intake.plan,
      pipeline: manifests.pipeline.steps,
      settings: this.deps.settings,
      catalogue: this.deps.catalogue,
      requester: { door: who.door, id: who.id },
      residencyRegions: manifests.plans.residencyRegions,
      now: this.now(),
    });
    if (!built.ok) throw new InvalidInputError(built.problems);
    return built.definition;
  }

  approve(ref: string, who: Identity, stepId?: string): Promise<JobView> {
    return this.onStep(
      ref,
      stepId,
      'waiting_approval',
      (id) => ({ kind: 'approve', stepId: id }),
      who,
      (label) => ({
        type: 'step.approved',
        summary: `${who.name} approved ${label} ${DOOR_WORDS[who.door]}`,
        patch: { approvedBy: who.name },
      }),
    );
  }

  async reject(ref: string, who: Identity, reason: string, stepId?: string): Promise<JobView> {
    requireReason(reason, 'rejecting');
    return this.onStep(
      ref,
      stepId,
      'waiting_approval',
      (id) => ({ kind: 'reject', stepId: id }),
      who,
      (label) => ({
        type: 'step.rejected',
        summary: `${who.name} rejected ${label} ${DOOR_WORDS[who.door]}: "${reason}"`,
        reason,
      }),
    );
  }

  provideInput(ref: string, who: Identity, input: unknown, stepId?: string): Promise<JobView> {
    return this.onStep(
      ref,
      stepId,
      'waiting_input',
      (id) => ({ kind: 'provide_input', stepId: id }),
      who,
      (label) => ({
        type: 'step.input_provided',
        summary: `${who.name} provided the input step ${label} was waiting for, ${DOOR_WORDS[who.door]}`,
        patch: { providedInput: input },
      }),
    );
  }

  /** `attemptStartedAt` names the failure a button was drawn for: an older failure's button is refused (StaleFailureError). */
  retry(ref: string, who: Identity, stepId?: string, attemptStartedAt?: number): Promise<JobView> {
    return this.onStep(
      ref,
      stepId,
      'failed',
      (id) => ({ kind: 'retry', stepId: id }),
      who,
      (label) => ({
        type: 'step.retried',
        summary: `${who.name} retried step ${label} ${DOOR_WORDS[who.door]}`,
      }),
      attemptStartedAt,
    );
  }

  async override(ref: string, who: Identity, stepId: string, reason: string, attemptStartedAt?: number): Promise<JobView> {
    requireReason(reason, 'overriding a step');
    return this.onStep(
      ref,
      stepId,
      'failed',
      (id) => ({ kind: 'override', stepId: id }),
      who,
      (label) => ({
        type: 'step.overridden',
        summary: `${who.name} overrode ${label} ${DOOR_WORDS[who.door]}: "${reason}"`,
        reason,
        patch: { override: { by: who.name, reason } },
      }),
      attemptStartedAt,
    );
  }

  async cancel(ref: string, who: Identity, reason: string): Promise<JobView> {
    requireReason(reason, 'cancelling');
    return this.onJob(ref, { kind: 'cancel' }, who, {
      type: 'job.cancelled',
      summary: `${who.name} cancelled the job ${DOOR_WORDS[who.door]}: "${reason}"`,
      reason,
    });
  }

  async rollback(ref: string, who: Identity, reason: string): Promise<JobView> {
    requireReason(reason, 'rolling back');
    const job = await this.find(ref);
    this.allow(who, 'rollback', job);
    const current = await this.live(job.jobId);
    const retrying = current.state.mode === 'rollback';
    const skipped = [...current.state.steps.values()].filter((s) => s.state === 'overridden').map((s) => s.id);
    const note = skipped.length > 0 ? ` Overridden steps (${skipped.join(', ')}) were done by hand and must be undone by hand.` : '';
    return this.onJob(ref, { kind: 'rollback' }, who, {
      type: retrying ? 'job.rollback_retried' : 'job.rollback_started',
      summary: `${who.name} ${retrying ? 'retried the rollback' : 'started a rollback'} ${DOOR_WORDS[who.door]}: "${reason}".${note}`,
      reason,
    });
  }

  /**
   * Whether this person may do this to this job, without doing it: doors ask
   * before opening a form, so nobody types a reason for an action they will be refused.
   */
  async may(who: Identity, action: JobAction, ref: string): Promise<Decision> {
    const job = await this.find(ref);
    return decide(who, action, this.deps.policy, { requester: job.requester });
  }

  /** The policy's answer, enforced: a refusal names what the person cannot do and who can. */
  private allow(who: Identity, action: JobAction, job?: Pick<JobView, 'requester'>): void {
    const decision = decide(who, action, this.deps.policy, { requester: job?.requester });
    if (!decision.allowed) throw new NotAllowedError(decision.reason);
  }

  /** A new customer status page for the job: its address, to share with the customer. */
  async shareStatusPage(ref: string, who: Identity): Promise<string> {
    const pages = this.deps.statusPages;
    if (!pages) throw new ActionRefusedError('customer status pages are served by `provisioner serve`, which is not configured here');
    const job = await this.find(ref);
    this.allow(who, 'share_status', job);
    const token = await pages.links.create(job.jobId, who.name);
    return `${pages.baseUrl()}/status/${token}`;
  }

  /** Withdraws every status page shared for the job: their links answer 404 from now on. Returns how many were live. */
  async withdrawStatusPages(ref: string, who: Identity): Promise<number> {
    const pages = this.deps.statusPages;
    if (!pages) return 0;
    const job = await this.find(ref);
    this.allow(who, 'share_status', job);
    return pages.links.revokeAll(job.jobId);
  }

  /** The job of the tenant with exactly this slug (its newest), live when the engine has it; null when there is none. */
  async tenantJob(slug: string): Promise<JobView | null> {
    const jobs = await this.deps.store.findJobs({ search: slug, limit: 20 });
    const newest = jobs.find((j) => j.view.tenant.slug === slug);
    return newest ? ((await this.deps.engine.view(newest.view.jobId)) ?? newest.view) : null;
  }

  /** The address of the job's customer status page when one was shared and still works, for someone who may share it. */
  async sharedStatusPage(jobId: string, who: Identity): Promise<string | undefined> {
    const pages = this.deps.statusPages;
    if (!pages || !decide(who, 'share_status', this.deps.policy).allowed) return undefined;
    const token = await pages.links.current(jobId, (id) => this.jobView(id));
    return token === undefined ? undefined : `${pages.baseUrl()}/status/${token}`;
  }

  /** One job by its id (no search): live when the engine has it, else as stored; null when there is none. */
  async jobView(jobId: string): Promise<JobView | null> {
    return (await this.deps.engine.view(jobId)) ?? (await this.deps.store.getJob(jobId))?.view ?? null;
  }

  /** The job's current view: live from the engine when it has one, else as stored. */
  async status(ref: string): Promise<JobView> {
    const job = await this.find(ref);
    return (await this.deps.engine.view(job.jobId)) ?? job;
  }

  /**
   * The job's changes as they happen, each with the job's view as it stands when the change is heard, from the
   * live stream (not the store), so a terminal shows progress the moment it is made. Ends when `signal` aborts; a lost Redis connection is
   * reported to `onLost` and the stream is read again from where it was once Redis is back.
   */
  async *follow(jobId: string, opts: { signal: AbortSignal; onLost(err: unknown): void }): AsyncGenerator<{ event: JobEvent; view: JobView | null }> {
    for await (const event of this.deps.engine.watch(jobId, opts.signal, opts.onLost)) {
      yield { event, view: await this.deps.engine.view(jobId) };
    }
  }

  /** The tenant's audit trail (every job of it), its newest `limit` entries, oldest first. */
  async audit(ref: string, opts: { verbose?: boolean; limit?: number } = {}): Promise<{ job: JobView; entries: AuditEntry[]; lines: string[] }> {
    const job = await this.find(ref);
    // The tenant's newest entries in one indexed query, rather than its jobs looked up again and read one by one.
    const entries = await this.deps.store.tenantAudit({ slug: job.tenant.slug, limit: opts.limit ?? AUDIT_PAGE });
    return { job, entries, lines: auditText(entries, opts) };
  }

  async list(statuses: readonly JobStatus[] = ACTIVE, limit = 50): Promise<JobView[]> {
    const records = await this.deps.store.findJobs({ statuses, limit });
    return records.map((r) => r.view);
  }

  /** Finds the newest job for a tenant slug, company name or job id. */
  private async find(ref: string): Promise<JobView> {
    const [newest] = await this.deps.store.findJobs({ search: ref, limit: 1 });
    if (!newest) throw new ActionRefusedError(`no job found for "${typedBack(ref)}" (give a tenant slug, a company name or a job id)`);
    return (await this.deps.engine.view(newest.view.jobId)) ?? newest.view;
  }

  private async live(jobId: string): Promise<{ definition: JobDefinition; state: JobState }> {
    const current = await this.deps.engine.read(jobId);
    if (!current) throw new ActionRefusedError(`job ${jobId} has no live state any more, so nothing can change it`);
    return current;
  }

  private async onStep(
    ref: string,
    stepId: string | undefined,
    waitingState: 'waiting_approval' | 'waiting_input' | 'failed',
    action: (stepId: string) => OperatorAction,
    who: Identity,
    describe: (label: string) => { type: EventType; summary: string; reason?: string; patch?: StepPatch },
    attemptStartedAt?: number,
  ): Promise<JobView> {
    const job = await this.find(ref);
    this.allow(who, ACTION_OF[action('').kind], job);
    const id = stepId ?? onlyStepIn(job, waitingState);
    const step = job.steps.find((s) => s.id === id);
    if (!step) throw new ActionRefusedError(`the job for ${job.tenant.companyName} has no step "${typedBack(id)}"`);
    refuseStale(step, attemptStartedAt);
    const d = describe(step.label);
    await this.deps.engine.act(job.jobId, action(id), (state) => {
      // Again on the snapshot the change is applied to, so a failure that happens in between is not acted on either.
      refuseStale({ id, state: state.steps.get(id)?.state ?? 'pending', startedAt: state.details.get(id)?.startedAt }, attemptStartedAt);
      return { event: this.event(job.jobId, d.type, who, d.summary, d.reason, id), ...(d.patch ? { patch: { steps: { [id]: d.patch } } } : {}) };
    });
    return this.status(job.jobId);
  }

  private async onJob(ref: string, action: OperatorAction, who: Identity, d: { type: EventType; summary: string; reason: string }): Promise<JobView> {
    const job = await this.find(ref);
    this.allow(who, ACTION_OF[action.kind], job);
    await this.deps.engine.act(job.jobId, action, () => ({ event: this.event(job.jobId, d.type, who, d.summary, d.reason) }));
    return this.status(job.jobId);
  }

  private event(jobId: string, type: EventType, who: Identity, summary: string, reason?: string, stepId?: string): JobEvent {
    const ev: JobEvent = { type, jobId, at: this.now().getTime(), actor: who.name, summary: redactText(summary) };
    if (reason !== undefined) ev.reason = redactText(reason);
    if (stepId !== undefined) ev.stepId = stepId;
    return ev;
  }
}

/** The policy's name for each operator action. */
const ACTION_OF: Readonly<Record<OperatorAction['kind'], JobAction>> = {
  approve: 'approve',
  reject: 'reject',
  provide_input: 'provide_input',
  retry: 'retry',
  override: 'override',
  cancel: 'cancel',
  rollback: 'rollback',
};

/** The intake as the door sent it, with the requester the door vouches for. */
function withRequester(raw: unknown, who: Identity): unknown {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? { ...raw, requestedBy: who.name } : raw;
}

function hasRequestedBy(raw: unknown): boolean {
  return raw !== null && typeof raw === 'object' && Object.hasOwn(raw, 'requestedBy');
}

function refuseStale(step: Parameters<typeof staleFailure>[0], attemptStartedAt: number | undefined): void {
  const stale = staleFailure(step, attemptStartedAt);
  if (stale) throw new StaleFailureError(stale);
}

function requireReason(reason: string, what: string): void {
  if (reason.trim().length < 3) throw new InvalidInputError([{ field: 'reason', message: `Give a reason for ${what} (it goes in the audit trail)` }]);
}

const WAITING_WORDS: Record<'waiting_approval' | 'waiting_input' | 'failed', { one: string; several: string }> = {
  waiting_approval: { one: 'is waiting for approval', several: 'are waiting for approval' },
  waiting_input: { one: 'is waiting for input', several: 'are waiting for input' },
  failed: { one: 'has failed', several: 'have failed' },
};

/** With no step named, act on the one step in the given state; refuse if there are none or several. */
function onlyStepIn(job: JobView, state: 'waiting_approval' | 'waiting_input' | 'failed'): string {
  const candidates = job.steps.filter((s) => s.state === state);
  const [only] = candidates;
  if (only && candidates.length === 1) return only.id;
  const words = WAITING_WORDS[state];
  if (candidates.length === 0) {
    throw new ActionRefusedError(`nothing in the job for ${job.tenant.companyName} ${words.one} (the job is ${jobStatusWords(job.status)})`);
  }
  throw new ActionRefusedError(`${listWords(candidates.map((s) => stepLabel(s.id)))} ${words.several}; name one`);
}
