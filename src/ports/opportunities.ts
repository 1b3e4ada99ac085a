/**
 * Which job each CRM opportunity's deal went to, kept where reading it costs
 * no scan (Redis), so a submission finds the job of a deal it has seen
 * before without searching the store. An index, not the authority: the
 * store's unique index on the opportunity decides who holds it, so an entry
 * that is missing or points at a job that was never stored only sends the
 * submission the slower way, through the store.
 */
export interface OpportunityIndex {
  /** Points the opportunity at `jobId` unless it points somewhere already; returns where it pointed (null: it was free, and is now ours). */
  claim(crmOpportunityId: string, jobId: string): Promise<string | null>;
  /** Points the opportunity at the job the store says holds it. */
  assign(crmOpportunityId: string, jobId: string): Promise<void>;
  /** Frees the opportunity if it still points at `jobId` (a submission refused before its job was stored). */
  release(crmOpportunityId: string, jobId: string): Promise<void>;
}
