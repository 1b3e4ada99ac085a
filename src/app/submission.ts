/**
 * Storing a new deal's job and starting it, at API speed: a new deal costs
 * one round trip to Redis (its opportunity claimed in the index), two
 * inserts into the store (its slug reserved, its job stored) and one to
 * Redis again (its live state), and nothing is read back. The store reads
 * that scan (on FerretDB, every read does) are left to the paths that need
 * them: a deal seen before whose job the index cannot point at, and races.
 *
 * What decides stays where it was: the store's unique index holds one job
 * per opportunity, and the slug reservation one tenant per slug. The
 * opportunity index only finds the job faster, so a process killed at any
 * line leaves either nothing, or a reservation and a job the same deal sent
 * again completes (its job id is the same), or an index entry pointing at a
 * job that was never stored, which the next submission steps around.
 */
import { InvalidInputError, OpportunityTakenError } from '../domain/errors.ts';
import type { Intake } from '../domain/intake.ts';
import { intakeDifferences, opportunityTakenMessage } from '../domain/intake-match.ts';
import type { JobDefinition } from '../domain/job-definition.ts';
import { buildJobView, initialJobView, type JobView } from '../domain/job-view.ts';
import { planNamed, type PlansManifest } from '../domain/plan.ts';
import { DOOR_WORDS } from '../domain/policy.ts';
import type { Engine } from '../engine/engine.ts';
import type { JobState } from '../engine/job-state.ts';
import type { OpportunityIndex } from '../ports/opportunities.ts';
import type { JobStore } from '../ports/store.ts';

export type ProvisionResult = { outcome: 'created' | 'existing'; job: JobView };

export type SubmissionDeps = {
  engine: Engine;
  store: JobStore;
  opportunities: OpportunityIndex;
  plans: Pick<PlansManifest, 'plans'>;
  now: () => Date;
};

/** A job found for an opportunity: its definition, and its live state when the engine has it. */
type Found = { definition: JobDefinition; live: JobState | null };

export class Submissions {
  private readonly deps: SubmissionDeps;

  constructor(deps: SubmissionDeps) {
    this.deps = deps;
  }

  /**
   * Stores and starts the job `definition` describes. The same deal again
   * gives its job; another deal on the same opportunity is refused naming
   * what differs (OpportunityTakenError), a slug another tenant holds too
   * (InvalidInputError on the slug).
   */
  async submit(definition: JobDefinition): Promise<ProvisionResult> {
    const { intake, jobId } = definition;
    const pointed = await this.deps.opportunities.claim(intake.crmOpportunityId, jobId);
    if (pointed !== null) {
      // This very job (the same deal again) is looked for only in the engine: if it is not live yet, the steps
      // below find it stored, or store it, at no more cost than a read of the store would have.
      const found = pointed === jobId ? await this.live(jobId) : await this.find(pointed);
      if (found) return this.sameDeal(found, intake);
      // Pointing at a job not stored (yet): another submission in flight, or one whose process died. The store decides.
    }
    const refused = await this.reserveSlug(definition);
    if (refused) return this.slugRefused(definition, refused, pointed === null);
    const at = this.deps.now();
    const created = await this.deps.store.createJob({ definition, view: initialJobView(definition), createdAt: at, updatedAt: at });
    if (created === 'exists') return this.lostRace(definition);
    if (pointed !== null && pointed !== jobId) await this.deps.opportunities.assign(intake.crmOpportunityId, jobId);
    return { outcome: 'created', job: await this.start(definition) };
  }

  /** The job already made for this deal's opportunity, if any (for a deal that can no longer be defined). */
  async existing(intake: Intake): Promise<ProvisionResult | null> {
    const record = await this.deps.store.findByOpportunity(intake.crmOpportunityId);
    return record ? this.sameDeal({ definition: record.definition, live: null }, intake) : null;
  }

  /** A job by id, live from the engine when it has it, else as stored. */
  private async find(jobId: string): Promise<Found | null> {
    const live = await this.live(jobId);
    if (live) return live;
    const stored = await this.deps.store.getJob(jobId);
    return stored ? { definition: stored.definition, live: null } : null;
  }

  private async live(jobId: string): Promise<Found | null> {
    const live = await this.deps.engine.read(jobId);
    return live ? { definition: live.definition, live: live.state } : null;
  }

  /** The refusal when another tenant holds the slug; null once it is ours. */
  private async reserveSlug({ jobId, intake }: JobDefinition): Promise<InvalidInputError | null> {
    const reservation = await this.deps.store.reserveTenant({ slug: intake.slug, jobId, companyName: intake.companyName });
    if (reservation.ok) return null;
    return new InvalidInputError([
      {
        field: 'slug',
        message: `"${intake.slug}" is already used by another tenant (job ${reservation.jobId}, ${reservation.status.replace('_', ' ')}); choose another slug`,
      },
    ]);
  }

  /**
   * Another tenant holds the slug: the opportunity goes back if this
   * submission claimed it, and a deal the store already knows (from before
   * the index, say) is answered as such rather than on its slug.
   */
  private async slugRefused(definition: JobDefinition, refused: InvalidInputError, claimedHere: boolean): Promise<ProvisionResult> {
    const { intake, jobId } = definition;
    if (claimedHere) await this.deps.opportunities.release(intake.crmOpportunityId, jobId);
    const holder = await this.deps.store.findByOpportunity(intake.crmOpportunityId);
    if (!holder) throw refused;
    await this.deps.opportunities.assign(intake.crmOpportunityId, holder.definition.jobId);
    return this.sameDeal({ definition: holder.definition, live: null }, intake);
  }

  /**
   * Another submission stored a job for this opportunity between our claim
   * and our insert (the unique index decided). If it is not this very job,
   * the slug we reserved belongs to no job: give it back before answering.
   */
  private async lostRace(definition: JobDefinition): Promise<ProvisionResult> {
    const { store, opportunities } = this.deps;
    const { intake, jobId } = definition;
    const ours = await this.find(jobId);
    if (ours) return this.sameDeal(ours, intake);
    await store.releaseTenant(intake.slug, jobId);
    const holder = await store.findByOpportunity(intake.crmOpportunityId);
    if (!holder) throw new Error(`job ${jobId} could not be stored, and no job holds opportunity ${intake.crmOpportunityId}`);
    await opportunities.assign(intake.crmOpportunityId, holder.definition.jobId);
    return this.sameDeal({ definition: holder.definition, live: null }, intake);
  }

  /** The existing job when `intake` is the deal it was made for; otherwise the opportunity is refused, naming its tenant and what differs. */
  private async sameDeal(existing: Found, intake: Intake): Promise<ProvisionResult> {
    const { definition, live } = existing;
    const planFeatures = planNamed(this.deps.plans, intake.plan)?.features ?? {};
    const differences = intakeDifferences(definition.intake, intake, planFeatures);
    if (differences.length === 0) return { outcome: 'existing', job: live ? buildJobView(definition, live) : await this.start(definition) };
    const holder = { slug: definition.tenant.slug, companyName: definition.tenant.companyName, jobId: definition.jobId };
    throw new OpportunityTakenError(opportunityTakenMessage(intake.crmOpportunityId, holder, differences), differences, holder.jobId);
  }

  /** Gives a stored job its live state (a crash may have come between the two), answered from what was written. */
  private async start(definition: JobDefinition): Promise<JobView> {
    const t = definition.tenant;
    const reasons = t.approvalReasons.length > 0 ? ` Needs approval: ${t.approvalReasons.join('; ')}.` : '';
    const view = await this.deps.engine.start(definition, {
      type: 'job.created',
      jobId: definition.jobId,
      at: Date.parse(definition.createdAt),
      actor: definition.intake.requestedBy,
      summary: `${definition.intake.requestedBy} requested ${article(t.planId)} ${t.planId} tenant for ${t.companyName} (slug ${t.slug})${doorOf(definition)}.${reasons}`,
    });
    return view ?? initialJobView(definition);
  }
}

/** " in Slack", " from the CLI"…: where the job was asked for, when that was recorded. */
function doorOf(definition: JobDefinition): string {
  return definition.requester ? ` ${DOOR_WORDS[definition.requester.door]}` : '';
}

/** "an enterprise tenant", "a growth tenant". */
function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
