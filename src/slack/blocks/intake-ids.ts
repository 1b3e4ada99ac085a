/** The intake modal's block and action ids: shared by the modal and the code that reads it back. */
import type { Intake } from '../../domain/intake.ts';
import type { Plan, PlansManifest } from '../../domain/plan.ts';
import { LIMITS } from './text.ts';

/** The fields a person types; requestedBy comes from who submitted. */
export type IntakeField = Exclude<keyof Intake, 'requestedBy'>;

/**
 * Block and action ids per field. Feature checkboxes sit in blocks named
 * `intake_features.<plan>[.<n>]` (see featureBlockId): a new plan gets fresh
 * blocks, so Slack does not carry the old plan's ticks over on views.update.
 */
export const INTAKE_BLOCKS: Record<IntakeField, { blockId: string; actionId: string }> = {
  companyName: { blockId: 'intake_company', actionId: 'company_input' },
  slug: { blockId: 'intake_slug', actionId: 'slug_input' },
  adminEmail: { blockId: 'intake_admin_email', actionId: 'admin_email_input' },
  plan: { blockId: 'intake_plan', actionId: 'plan_select' },
  contractStartDate: { blockId: 'intake_start_date', actionId: 'start_date_picker' },
  contractValue: { blockId: 'intake_contract_value', actionId: 'contract_value_input' },
  dataResidency: { blockId: 'intake_residency', actionId: 'residency_select' },
  featureOverrides: { blockId: 'intake_features', actionId: 'features_checkboxes' },
  crmOpportunityId: { blockId: 'intake_crm', actionId: 'crm_input' },
};

/** Block id of the n-th group of feature checkboxes for a plan (Slack allows 10 options per element). */
export function featureBlockId(planId: string, chunk: number): string {
  const base = `${INTAKE_BLOCKS.featureOverrides.blockId}.${planId}`;
  return chunk === 0 ? base : `${base}.${chunk}`;
}

/** A plan's flags in catalogue order, in groups of at most 10: one checkbox block per group. */
export function featureChunks(plans: PlansManifest, plan: Plan): string[][] {
  const flags = Object.keys(plans.featureFlags).filter((flag) => flag in plan.features);
  const out: string[][] = [];
  for (let i = 0; i < flags.length; i += LIMITS.checkboxOptions) out.push(flags.slice(i, i + LIMITS.checkboxOptions));
  return out;
}
