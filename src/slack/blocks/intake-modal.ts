/**
 * The intake modal an account executive fills in when a deal closes, and the
 * way back: Slack's `view.state.values` → the raw intake for parseIntake, and
 * parseIntake's field errors → the modal's block ids.
 */
import type {
  Checkboxes,
  Datepicker,
  EmailInput,
  InputBlock,
  KnownBlock,
  ModalView,
  NumberInput,
  PlainTextInput,
  PlainTextOption,
  StaticSelect,
} from '@slack/types';
import { isoDay } from '../../domain/calendar.ts';
import { suggestSlug } from '../../domain/intake.ts';
import { planLimit, planNamed, type Plan, type PlansManifest } from '../../domain/plan.ts';
import { CALLBACKS } from './actions.ts';
import { featureBlockId, featureChunks, INTAKE_BLOCKS, type IntakeField } from './intake-ids.ts';
import { plain } from './elements.ts';
import { modalView } from './limits.ts';
import { previewButtonBlock } from './preview.ts';
import { LIMITS, truncate } from './text.ts';

export { featureBlockId, INTAKE_BLOCKS, type IntakeField } from './intake-ids.ts';
export { intakeErrors, readIntakeSubmission } from './intake-submission.ts';

export type IntakeModalOptions = {
  plans: PlansManifest;
  selectedPlan?: string;
  initial?: Partial<Record<IntakeField, string>>;
  privateMetadata: string;
  /** Anchors the start-date default; the server's today when omitted. */
  today?: Date;
};

export function intakeModal(opts: IntakeModalOptions): ModalView {
  // Own keys only: "constructor" or "toString" would find Object's, which is no plan.
  const plan = opts.selectedPlan !== undefined ? planNamed(opts.plans, opts.selectedPlan) : undefined;
  const blocks: KnownBlock[] = [
    ...textBlocks(opts.initial ?? {}),
    planBlock(opts.plans, plan ? opts.selectedPlan : undefined),
    ...(plan && opts.selectedPlan !== undefined ? featureBlocks(opts.plans, opts.selectedPlan, plan) : []),
    ...dealBlocks(opts),
    previewButtonBlock(),
  ];
  return modalView({
    callback_id: CALLBACKS.intake,
    private_metadata: truncate(opts.privateMetadata, LIMITS.privateMetadata),
    title: plain('Provision a tenant', LIMITS.modalTitle),
    submit: plain('Provision', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks,
  });
}

function input(field: IntakeField, label: string, element: InputBlock['element'], extra: Partial<InputBlock> = {}): InputBlock {
  return { type: 'input', block_id: INTAKE_BLOCKS[field].blockId, label: plain(label, LIMITS.inputLabel), element, ...extra };
}

function textInput(field: IntakeField, initial: string | undefined, placeholder: string): PlainTextInput {
  const element: PlainTextInput = { type: 'plain_text_input', action_id: INTAKE_BLOCKS[field].actionId, placeholder: plain(placeholder, 150) };
  if (initial) element.initial_value = initial;
  return element;
}

function textBlocks(initial: Partial<Record<IntakeField, string>>): InputBlock[] {
  const slug = initial.slug ?? (initial.companyName ? suggestSlug(initial.companyName) : undefined);
  const email: EmailInput = { type: 'email_text_input', action_id: INTAKE_BLOCKS.adminEmail.actionId, placeholder: plain('jane@acme.com') };
  if (initial.adminEmail) email.initial_value = initial.adminEmail;
  return [
    input('companyName', 'Company name', textInput('companyName', initial.companyName, 'Acme Corp')),
    // Optional: left empty, the slug is suggested from the company name on submit.
    input('slug', 'Slug', textInput('slug', slug, 'acme-corp'), {
      optional: true,
      hint: plain('suggested from the company name; lowercase letters, digits, hyphens'),
    }),
    input('adminEmail', "Customer admin's email", email),
  ];
}

function planOption(id: string, plan: Plan): PlainTextOption {
  const users = planLimit(plan, 'users');
  const seats = users === undefined ? '' : `${users.toLocaleString('en-US')} seats, `;
  return {
    text: plain(plan.displayName, LIMITS.optionText),
    value: id,
    description: plain(`${seats}${plan.isolation} database`, LIMITS.optionDescription),
  };
}

function planBlock(plans: PlansManifest, selected: string | undefined): InputBlock {
  const options = Object.entries(plans.plans).map(([id, plan]) => planOption(id, plan));
  const element: StaticSelect = { type: 'static_select', action_id: INTAKE_BLOCKS.plan.actionId, options, placeholder: plain('Choose a plan') };
  const initial = options.find((o) => o.value === selected);
  if (initial) element.initial_option = initial;
  // dispatch_action: choosing a plan tells the listener to redraw the feature checkboxes.
  return input('plan', 'Plan', element, { dispatch_action: true });
}

function flagOption(plans: PlansManifest, plan: Plan, flag: string): PlainTextOption {
  const standard = plan.features[flag] ? 'on' : 'off';
  const description = plans.featureFlags[flag]?.description ?? '';
  return {
    text: plain(`${flag} (plan default: ${standard})`, LIMITS.optionText),
    value: flag,
    description: plain(description, LIMITS.optionDescription),
  };
}

function featureBlocks(plans: PlansManifest, planId: string, plan: Plan): InputBlock[] {
  return featureChunks(plans, plan).map((flags, n): InputBlock => {
    const options = flags.map((flag) => flagOption(plans, plan, flag));
    const element: Checkboxes = { type: 'checkboxes', action_id: INTAKE_BLOCKS.featureOverrides.actionId, options };
    const on = options.filter((o) => o.value !== undefined && plan.features[o.value] === true);
    if (on.length > 0) element.initial_options = on;
    return {
      type: 'input',
      block_id: featureBlockId(planId, n),
      // Unticking everything is a valid answer, so the block may be empty.
      optional: true,
      label: plain(n === 0 ? 'Features (ticked = on)' : 'More features'),
      hint: plain(`Set to the ${plan.displayName} plan's defaults; change only what the contract negotiated.`),
      element,
    };
  });
}

function dealBlocks(opts: IntakeModalOptions): InputBlock[] {
  const initial = opts.initial ?? {};
  const date: Datepicker = {
    type: 'datepicker',
    action_id: INTAKE_BLOCKS.contractStartDate.actionId,
    initial_date: initial.contractStartDate ?? isoDay(opts.today ?? new Date()),
  };
  const value: NumberInput = { type: 'number_input', action_id: INTAKE_BLOCKS.contractValue.actionId, is_decimal_allowed: true, min_value: '0' };
  if (initial.contractValue) value.initial_value = initial.contractValue;
  const regions = opts.plans.dataResidencies.map((r): PlainTextOption => ({ text: plain(r.toUpperCase()), value: r }));
  const chosen = initial.dataResidency ?? opts.plans.defaultDataResidency;
  const residency: StaticSelect = { type: 'static_select', action_id: INTAKE_BLOCKS.dataResidency.actionId, options: regions };
  const initialRegion = regions.find((o) => o.value === chosen);
  if (initialRegion) residency.initial_option = initialRegion;
  return [
    input('contractStartDate', 'Contract start date', date),
    input('contractValue', 'Contract value', value, { hint: plain('The amount on the signed contract, as a number, e.g. 120000') }),
    input('dataResidency', 'Data residency', residency),
    input('crmOpportunityId', 'CRM opportunity id', textInput('crmOpportunityId', initial.crmOpportunityId, '006Dn00000AbCdE')),
  ];
}
