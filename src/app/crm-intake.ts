/**
 * Deals a CRM sends by itself (Salesforce outbound messages): each becomes a
 * job through the one provisioning service (so one job per opportunity,
 * whatever arrives), or, when its fields cannot be resolved or the intake
 * refuses them, a pending intake a person completes in Slack. `receive`
 * resolves only once every deal is durably one or the other, so the door may
 * acknowledge; the notices are posted afterwards and never hold it up. A
 * notice Slack did not take is posted again later (`postOverdueNotices`).
 */
import type { AuditEntry } from '../domain/audit.ts';
import type { CrmDeal, PendingIntake } from '../domain/crm-deal.ts';
import { prefillOf } from '../domain/crm-deal.ts';
import { ActionRefusedError, InvalidInputError, NotAllowedError } from '../domain/errors.ts';
import type { IntakeFieldError } from '../domain/intake.ts';
import { decide, DOOR_WORDS, type Identity, type PolicySettings } from '../domain/policy.ts';
import type { PendingIntakeNotices } from '../ports/notifier.ts';
import type { JobStore, PendingIntakeStore } from '../ports/store.ts';
import type { ProvisioningService, ProvisionResult } from './services.ts';

export type CrmIntakeDeps = {
  provisioning: Pick<ProvisioningService, 'provision'>;
  store: PendingIntakeStore;
  /** The job's audit trail, where completing a pending intake is written. */
  audit: Pick<JobStore, 'appendAudit'>;
  /** Undefined without Slack: pending intakes are then only recorded. */
  notices: PendingIntakeNotices | undefined;
  policy: PolicySettings;
  /** How long a notice may stay unposted before `postOverdueNotices` posts it (longer than one post's retries). */
  noticeOverdueMs?: number;
  onError(err: unknown): void;
  now?: () => Date;
};

export type DealOutcome =
  | { deliveryId: string; opportunityId: string; outcome: 'created' | 'existing'; jobId: string }
  | { deliveryId: string; opportunityId: string; outcome: 'needs_attention'; problems: readonly IntakeFieldError[] };

/** Provisioning several deals at once, but not a hundred: the store and Redis serve other doors too. */
const AT_ONCE = 4;
/** Above the Slack adapter's whole retry budget (about 45 s), so a post still being tried is not posted twice. */
const NOTICE_OVERDUE_MS = 120_000;

/**
 * The CRM as the one who asks for a tenant: the 'api' door, named for the
 * deal ("Salesforce (opportunity 006…)") so the progress message and the
 * audit say where the request came from. The one place a CRM deal becomes a
 * requester: when the JSON API's shared submission lands, point this at it.
 */
export function crmRequester(source: string, opportunityId: string): Identity {
  return { door: 'api', id: source.toLowerCase(), name: `${source} (opportunity ${opportunityId})`, roles: new Set(['requester']) };
}

export class CrmIntakeService {
  private readonly deps: CrmIntakeDeps;
  /** Notices being posted now, so a second delivery in this process does not post the same one again. */
  private readonly posting = new Set<string>();

  constructor(deps: CrmIntakeDeps) {
    this.deps = deps;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /**
   * Provisions each deal as the CRM (crmRequester), or records it as
   * needing a person. Throws if any could be neither (the store is down):
   * the CRM must then deliver again, and what was done is found done.
   */
  async receive(source: string, deals: readonly CrmDeal[]): Promise<DealOutcome[]> {
    const recorded: PendingIntake[] = [];
    const outcomes = await eachAtOnce(deals, AT_ONCE, async (deal): Promise<DealOutcome> => {
      const ids = { deliveryId: deal.deliveryId, opportunityId: deal.opportunityId };
      const who = crmRequester(source, deal.opportunityId);
      const provisioned = deal.problems.length > 0 ? { problems: deal.problems } : await this.provision(deal, who);
      if (!('problems' in provisioned)) return { ...ids, ...provisioned };
      const pending = this.pendingOf(source, deal, provisioned.problems);
      if ((await this.deps.store.recordPendingIntake(pending)) === 'recorded') recorded.push(pending);
      return { ...ids, outcome: 'needs_attention', problems: provisioned.problems };
    });
    for (const pending of recorded) void this.postNotice(pending);
    return outcomes;
  }

  /** The job the deal made or found, or why the intake refused it. */
  private async provision(
    deal: CrmDeal,
    who: Identity,
  ): Promise<{ outcome: 'created' | 'existing'; jobId: string } | { problems: readonly IntakeFieldError[] }> {
    try {
      const { outcome, job } = await this.deps.provisioning.provision(deal.intake, who);
      return { outcome, jobId: job.jobId };
    } catch (err) {
      // Bad facts, a slug taken, or the same opportunity with other facts: a person decides.
      if (err instanceof InvalidInputError) return { problems: err.problems };
      throw err;
    }
  }

  private pendingOf(source: string, deal: CrmDeal, problems: readonly IntakeFieldError[]): PendingIntake {
    return {
      id: deal.deliveryId,
      source,
      opportunityId: deal.opportunityId,
      receivedAt: this.now(),
      sent: deal.sent,
      prefill: prefillOf(deal.intake),
      problems,
    };
  }

  /** Posts the notice and remembers where; a failure is reported and left for postOverdueNotices. */
  private async postNotice(pending: PendingIntake): Promise<void> {
    const notices = this.deps.notices;
    if (!notices || this.posting.has(pending.id)) return;
    this.posting.add(pending.id);
    try {
      const ref = await notices.post(pending);
      await this.deps.store.markPendingIntakeNoticed(pending.id, { at: this.now(), ref });
    } catch (err) {
      this.deps.onError(err);
    } finally {
      this.posting.delete(pending.id);
    }
  }

  /**
   * Posts the notices that should have been posted by now (Slack was down,
   * or the process died before posting): those of deals received more than
   * `overdueMs` ago and still without one.
   */
  async postOverdueNotices(limit = 20, overdueMs = this.deps.noticeOverdueMs ?? NOTICE_OVERDUE_MS): Promise<void> {
    const before = new Date(this.now().getTime() - overdueMs);
    for (const pending of await this.deps.store.unnoticedPendingIntakes(before, limit)) await this.postNotice(pending);
  }

  /** The pending intake a person is about to complete; refused when they may not request tenants, or it is gone or done. */
  async toComplete(id: string, who: Identity): Promise<PendingIntake> {
    const decision = decide(who, 'provision', this.deps.policy);
    if (!decision.allowed) throw new NotAllowedError(decision.reason);
    const pending = await this.deps.store.pendingIntake(id);
    if (!pending) throw new ActionRefusedError('that deal is not waiting for anyone any more');
    if (pending.completed) {
      const { by, slug } = pending.completed;
      throw new ActionRefusedError(`${by} already completed that deal: it is tenant ${slug}`);
    }
    return pending;
  }

  /** Provisions what the person submitted for a pending intake, then marks it completed (and its notice). */
  async complete(id: string, raw: unknown, who: Identity): Promise<ProvisionResult> {
    const pending = await this.toComplete(id, who);
    const result = await this.deps.provisioning.provision(raw, who);
    const completed = { by: who.name, jobId: result.job.jobId, slug: result.job.tenant.slug, at: this.now() };
    await this.deps.audit.appendAudit([completionEntry(pending, result, who, completed.at)]);
    await this.deps.store.markPendingIntakeCompleted(id, completed);
    const ref = pending.notice?.ref;
    if (ref !== undefined && this.deps.notices) {
      void this.deps.notices.markCompleted({ ...pending, completed }, ref).catch((err: unknown) => this.deps.onError(err));
    }
    return result;
  }
}

/** The audit line saying who completed what the CRM sent; its id is the pending intake's, so writing it again changes nothing. */
function completionEntry(pending: PendingIntake, { job }: ProvisionResult, who: Identity, at: Date): AuditEntry {
  const needed = pending.problems.map((p) => p.message).join('; ');
  return {
    id: `crm-intake:${pending.id}`,
    jobId: job.jobId,
    tenantSlug: job.tenant.slug,
    companyName: job.tenant.companyName,
    at,
    type: 'job.created',
    actor: who.name,
    summary: `${who.name} completed ${DOOR_WORDS[who.door]} the deal ${pending.source} sent for opportunity ${pending.opportunityId} (notification ${pending.id}), which needed a person: ${needed}`,
  };
}

/** `work` on every item, at most `limit` at a time, results in the items' order; the first failure fails it all. */
async function eachAtOnce<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item !== undefined) results[index] = await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
