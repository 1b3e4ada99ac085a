/**
 * The signed-to-live KPIs, for every door: the admin page, `/provision stats`
 * and `provisioner stats` all ask report(); the product's activation events
 * come in through recordActivation(). Figures are aggregated from the facts
 * the keeper holds in memory, never from the audit.
 */
import { activationEventSchema, parseActivationEvent } from '../domain/activation.ts';
import { InvalidInputError, NotAllowedError, UnknownTenantError } from '../domain/errors.ts';
import { kpiReport, type KpiReport } from '../domain/kpis.ts';
import { decideReportActivation, decideViewKpis, type Decision, type Identity } from '../domain/policy.ts';
import { typedBack } from '../domain/wording.ts';
import type { KpiStore } from '../ports/store.ts';
import type { KpiFactsKeeper } from './kpi-facts.ts';

/** Figures worked out from the same facts are reused this long (the weeks and day counts move with the clock). */
const REUSE_MS = 10_000;

export class KpiService {
  private readonly keeper: KpiFactsKeeper;
  private readonly store: KpiStore;
  private readonly now: () => Date;
  private last: { version: number; report: KpiReport } | undefined;

  constructor(deps: { keeper: KpiFactsKeeper; store: KpiStore; now?: () => Date }) {
    this.keeper = deps.keeper;
    this.store = deps.store;
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * The KPIs as of now. Where the keeper follows the jobs in the background
   * (provisioner serve) this only aggregates what it holds; elsewhere (the
   * CLI) the facts of jobs that changed are worked out first.
   */
  async report(who: Identity): Promise<KpiReport> {
    allow(decideViewKpis(who));
    if (this.keeper.following) await this.keeper.load();
    else await this.keeper.catchUp();
    const now = this.now().getTime();
    const last = this.last;
    if (last && last.version === this.keeper.version && now - last.report.at < REUSE_MS && now >= last.report.at) return last.report;
    const report = kpiReport(this.keeper.jobFacts(), this.keeper.firstActivations(), now);
    this.last = { version: this.keeper.version, report };
    return report;
  }

  /**
   * Keeps an activation event the product posted for a tenant: 'recorded' the
   * first time, 'duplicate' for a redelivery of the same event id.
   */
  /** What recordActivation takes, for the API's OpenAPI document. */
  activationEventSchema() {
    return activationEventSchema(this.now());
  }

  async recordActivation(slug: string, raw: unknown, who: Identity): Promise<'recorded' | 'duplicate'> {
    allow(decideReportActivation(who));
    const parsed = parseActivationEvent(raw, this.now());
    if (!parsed.ok) throw new InvalidInputError(parsed.problems);
    if (!(await this.store.tenantKnown(slug))) throw new UnknownTenantError(typedBack(slug));
    const outcome = await this.store.recordActivation(slug, parsed.event, who.name);
    if (outcome === 'recorded') this.keeper.noteFirstUse({ tenantSlug: slug, workflow: parsed.event.workflow, firstAt: parsed.event.at.getTime() });
    return outcome;
  }
}

function allow(decision: Decision): void {
  if (!decision.allowed) throw new NotAllowedError(decision.reason);
}
