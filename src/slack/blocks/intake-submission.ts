/**
 * From a submitted intake modal to the raw intake parseIntake validates, and
 * from parseIntake's field errors back to the modal's blocks. Nothing is
 * validated here: the one parser shared with the CLI and API decides.
 */
import { suggestSlug } from '../../domain/intake.ts';
import { planNamed, type PlansManifest } from '../../domain/plan.ts';
import { featureBlockId, featureChunks, INTAKE_BLOCKS, type IntakeField } from './intake-ids.ts';
import { stateText, stateValue, type ViewStateValues } from './state.ts';

export function readIntakeSubmission(values: ViewStateValues, plans: PlansManifest, requestedBy: string): Record<string, unknown> {
  const text = (field: IntakeField) => stateText(values, INTAKE_BLOCKS[field]);
  const selected = (field: IntakeField) => stateValue(values, INTAKE_BLOCKS[field])?.selected_option?.value ?? undefined;
  const companyName = text('companyName');
  const plan = selected('plan');
  const raw: Record<string, unknown> = {
    companyName,
    // The slug box may be left empty: the suggestion the hint promises is used (parseIntake explains when there is none).
    slug: text('slug') ?? (companyName !== undefined ? suggestSlug(companyName) : undefined),
    adminEmail: text('adminEmail'),
    plan,
    contractStartDate: stateValue(values, INTAKE_BLOCKS.contractStartDate)?.selected_date ?? undefined,
    contractValue: text('contractValue'),
    dataResidency: residency(values),
    featureOverrides: plan !== undefined ? readOverrides(values, plans, plan) : {},
    crmOpportunityId: text('crmOpportunityId'),
    requestedBy,
  };
  // Missing answers are left out, so parseIntake reports "Enter the …" rather than a type error.
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}

/** A residency picker left without a choice is asked for again (null); only a modal without the picker takes the default. */
function residency(values: ViewStateValues): string | null | undefined {
  const state = stateValue(values, INTAKE_BLOCKS.dataResidency);
  return state ? (state.selected_option?.value ?? null) : undefined;
}

/**
 * Only the flags whose tick differs from the plan's default: a ticked flag is
 * on, an unticked one off. When the modal still shows another plan's boxes
 * (the plan changed and the redraw has not landed), nothing is overridden:
 * guessing could switch off features the customer paid for.
 */
function readOverrides(values: ViewStateValues, plans: PlansManifest, planId: string): Record<string, boolean> {
  // Own keys only: "constructor" or "toString" would find Object's, which is no plan (parseIntake refuses it).
  const plan = planNamed(plans, planId);
  if (!plan) return {};
  const overrides: Record<string, boolean> = {};
  featureChunks(plans, plan).forEach((flags, n) => {
    const state = stateValue(values, { blockId: featureBlockId(planId, n), actionId: INTAKE_BLOCKS.featureOverrides.actionId });
    if (!state) return;
    const ticked = new Set((state.selected_options ?? []).map((o) => o.value));
    for (const flag of flags) {
      const on = ticked.has(flag);
      if (on !== plan.features[flag]) overrides[flag] = on;
    }
  });
  return overrides;
}

const FIELD_BLOCK: ReadonlyMap<string, string> = new Map(Object.entries(INTAKE_BLOCKS).map(([field, ids]) => [field, ids.blockId]));

/** Errors that belong to no input (e.g. requestedBy) are shown on the first one, the company name. */
function blockFor(field: string): string {
  // Feature blocks are named per plan and may not be on screen; the plan picker always is.
  if (field === 'featureOverrides') return INTAKE_BLOCKS.plan.blockId;
  return FIELD_BLOCK.get(field) ?? INTAKE_BLOCKS.companyName.blockId;
}

/** For `ack({ response_action: 'errors', errors })`: block id → message; two messages on one block are joined. */
export function intakeErrors(problems: readonly { field: string; message: string }[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const { field, message } of problems) {
    const block = blockFor(field);
    const earlier = errors[block];
    errors[block] = earlier === undefined ? message : `${earlier}; ${message}`;
  }
  return errors;
}
