import type { ViewStateSelectedOption, ViewStateValue } from '@slack/bolt';
import type { AnyBlock, InputBlock, ModalView, Option } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { parseIntake } from '../../../src/domain/intake.ts';
import { featureBlockId, INTAKE_BLOCKS, intakeErrors, intakeModal, readIntakeSubmission } from '../../../src/slack/blocks/intake-modal.ts';
import type { ViewStateValues } from '../../../src/slack/blocks/state.ts';
import { LIMITS } from '../../../src/slack/blocks/text.ts';
import { allTexts, realManifests } from './fixtures.ts';

const { plans } = realManifests();
// 25 November 2026: the datepicker's default and parseIntake's "today" agree.
const today = new Date(2026, 10, 25);

const isInput = (b: AnyBlock): b is InputBlock => b.type === 'input';

function selected(option: Option): ViewStateSelectedOption {
  return { text: { type: 'plain_text', text: option.text.text }, value: option.value ?? '' };
}

/** What the person changed: typed text, a chosen option value, a date, the ticked flags. */
type Answer = string | string[];

/**
 * What Slack sends as view.state.values: every input block with its current
 * value, which is the initial value unless the person changed it.
 */
function submit(view: ModalView, answers: Record<string, Answer> = {}): ViewStateValues {
  const values: ViewStateValues = {};
  for (const block of view.blocks.filter(isInput)) {
    const blockId = block.block_id ?? '';
    const actionId = block.element.action_id ?? '';
    values[blockId] = { [actionId]: stateOf(block.element, answers[blockId]) };
  }
  return values;
}

function stateOf(element: InputBlock['element'], answer: Answer | undefined): ViewStateValue {
  const one = typeof answer === 'string' ? answer : undefined;
  switch (element.type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'number_input':
      return { type: element.type, value: one ?? element.initial_value ?? null };
    case 'datepicker':
      return { type: 'datepicker', selected_date: one ?? element.initial_date ?? null };
    case 'static_select': {
      const option = (element.options ?? []).find((o) => o.value === one) ?? element.initial_option;
      return { type: 'static_select', selected_option: option ? selected(option) : null };
    }
    case 'checkboxes': {
      const ticked = Array.isArray(answer)
        ? element.options.filter((o) => o.value !== undefined && answer.includes(o.value))
        : (element.initial_options ?? []);
      return { type: 'checkboxes', selected_options: ticked.map(selected) };
    }
    default:
      throw new Error(`the intake modal has no ${element.type}`);
  }
}

const growthDeal: Record<string, Answer> = {
  [INTAKE_BLOCKS.companyName.blockId]: 'Globex Inc',
  [INTAKE_BLOCKS.adminEmail.blockId]: 'ops@globex.example',
  [INTAKE_BLOCKS.plan.blockId]: 'growth',
  [INTAKE_BLOCKS.contractValue.blockId]: '150000',
  [INTAKE_BLOCKS.crmOpportunityId.blockId]: '006GLOBEX1',
};

describe('an account executive opening /provision', () => {
  const view = intakeModal({ plans, privateMetadata: '{"channel":"C0ONBOARD"}', today });

  it('gets a modal Slack accepts: title, callback, block count', () => {
    expect(view.type).toBe('modal');
    expect(view.callback_id).toBe('provision_intake');
    expect(view.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
    expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.modalBlocks);
  });

  it('sees every field, and no feature boxes before choosing a plan', () => {
    const ids = view.blocks.map((b) => b.block_id);
    expect(ids).toEqual([
      'intake_company',
      'intake_slug',
      'intake_admin_email',
      'intake_plan',
      'intake_start_date',
      'intake_contract_value',
      'intake_residency',
      'intake_crm',
      'intake_preview_actions',
    ]);
  });

  it('sees the plans by name, the start date set to today and the default residency', () => {
    const plan = view.blocks.filter(isInput).find((b) => b.block_id === INTAKE_BLOCKS.plan.blockId);
    expect(plan?.dispatch_action).toBe(true);
    expect(allTexts(plan)).toEqual(expect.arrayContaining(['Starter', 'Growth', 'Enterprise']));
    const values = submit(view);
    expect(values[INTAKE_BLOCKS.contractStartDate.blockId]?.[INTAKE_BLOCKS.contractStartDate.actionId]?.selected_date).toBe('2026-11-25');
    expect(values[INTAKE_BLOCKS.dataResidency.blockId]?.[INTAKE_BLOCKS.dataResidency.actionId]?.selected_option?.value).toBe('us');
  });

  it('is told how slugs are made', () => {
    const slug = view.blocks.filter(isInput).find((b) => b.block_id === INTAKE_BLOCKS.slug.blockId);
    expect(slug?.hint?.text).toBe('suggested from the company name; lowercase letters, digits, hyphens');
  });
});

describe('choosing the Growth plan', () => {
  const view = intakeModal({ plans, selectedPlan: 'growth', privateMetadata: '', today });
  const boxes = view.blocks.filter(isInput).find((b) => b.block_id === featureBlockId('growth', 0));

  it("shows the plan's flags with their defaults ticked", () => {
    expect(boxes?.element.type).toBe('checkboxes');
    expect(boxes?.optional).toBe(true);
    const values = submit(view)[featureBlockId('growth', 0)]?.[INTAKE_BLOCKS.featureOverrides.actionId];
    const ticked = (values?.selected_options ?? []).map((o) => o.value).sort();
    expect(ticked).toEqual(['advanced_analytics', 'api_access', 'audit_log', 'data_export', 'sso']);
    expect(allTexts(boxes)).toContain('custom_roles (plan default: off)');
  });

  it('keeps every option label within Slack limits', () => {
    if (boxes?.element.type !== 'checkboxes') throw new Error('expected checkboxes');
    for (const option of boxes.element.options) {
      expect(option.text.text.length).toBeLessThanOrEqual(LIMITS.optionText);
      expect((option.description?.text ?? '').length).toBeLessThanOrEqual(LIMITS.optionDescription);
    }
  });
});

describe('submitting the intake', () => {
  it('reads back into an intake parseIntake accepts, with the slug suggested', () => {
    const view = intakeModal({ plans, selectedPlan: 'growth', privateMetadata: '', today });
    const raw = readIntakeSubmission(submit(view, growthDeal), plans, 'alice.ae');
    const parsed = parseIntake(raw, plans, today);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.intake).toMatchObject({
      companyName: 'Globex Inc',
      slug: 'globex',
      adminEmail: 'ops@globex.example',
      plan: 'growth',
      contractStartDate: '2026-11-25',
      contractValue: 150000,
      dataResidency: 'us',
      featureOverrides: {},
      crmOpportunityId: '006GLOBEX1',
      requestedBy: 'alice.ae',
    });
  });

  it('sends only the features that differ from the plan: one switched on, one switched off', () => {
    const view = intakeModal({ plans, selectedPlan: 'growth', privateMetadata: '', today });
    const ticks = ['sso', 'api_access', 'data_export', 'advanced_analytics', 'custom_roles']; // audit_log off, custom_roles on
    const raw = readIntakeSubmission(submit(view, { ...growthDeal, [featureBlockId('growth', 0)]: ticks }), plans, 'alice.ae');
    expect(raw['featureOverrides']).toEqual({ audit_log: false, custom_roles: true });
    const parsed = parseIntake(raw, plans, today);
    expect(parsed.ok && parsed.intake.featureOverrides).toEqual({ audit_log: false, custom_roles: true });
  });

  it("overrides nothing when the boxes on screen belong to the plan chosen before (the redraw hadn't landed)", () => {
    const view = intakeModal({ plans, selectedPlan: 'starter', privateMetadata: '', today });
    const raw = readIntakeSubmission(submit(view, { ...growthDeal, [featureBlockId('starter', 0)]: [] }), plans, 'alice.ae');
    expect(raw['plan']).toBe('growth');
    expect(raw['featureOverrides']).toEqual({});
  });

  it('keeps what was typed when the modal is redrawn with initial values', () => {
    const view = intakeModal({
      plans,
      selectedPlan: 'enterprise',
      initial: {
        companyName: 'Initech',
        adminEmail: 'it@initech.example',
        contractValue: '90000',
        dataResidency: 'eu',
        crmOpportunityId: '006INIT',
        contractStartDate: '2026-12-01',
      },
      privateMetadata: '',
      today,
    });
    const parsed = parseIntake(readIntakeSubmission(submit(view), plans, 'bob.ae'), plans, today);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.intake).toMatchObject({
      slug: 'initech',
      plan: 'enterprise',
      dataResidency: 'eu',
      contractStartDate: '2026-12-01',
      contractValue: 90000,
    });
  });

  it('puts a bad email on the email block, where Slack shows it', () => {
    const view = intakeModal({ plans, selectedPlan: 'growth', privateMetadata: '', today });
    const raw = readIntakeSubmission(submit(view, { ...growthDeal, [INTAKE_BLOCKS.adminEmail.blockId]: 'ops-at-globex' }), plans, 'alice.ae');
    const parsed = parseIntake(raw, plans, today);
    if (parsed.ok) throw new Error('expected the email to be refused');
    expect(intakeErrors(parsed.errors)).toEqual({ intake_admin_email: 'Enter a valid email address, e.g. jane@acme.com' });
  });

  it('names every missing answer on its own block', () => {
    const view = intakeModal({ plans, privateMetadata: '', today });
    const parsed = parseIntake(readIntakeSubmission(submit(view), plans, 'alice.ae'), plans, today);
    if (parsed.ok) throw new Error('expected missing fields');
    expect(Object.keys(intakeErrors(parsed.errors)).sort()).toEqual(
      ['intake_admin_email', 'intake_company', 'intake_contract_value', 'intake_crm', 'intake_plan', 'intake_slug'].sort(),
    );
  });

  it('asks again for an answer that is not text (a payload Slack would not send), on its block, instead of failing', () => {
    const view = intakeModal({ plans, privateMetadata: '', today });
    const typed = JSON.stringify(submit(view, growthDeal));
    // Through JSON, as a payload arrives: Bolt types it, whoever sent it shaped it.
    const sent: ViewStateValues = JSON.parse(typed.replace('"value":"Globex Inc"', '"value":42'));
    const parsed = parseIntake(readIntakeSubmission(sent, plans, 'alice.ae'), plans, today);
    if (parsed.ok) throw new Error('expected the company name to be asked for');
    // Without a company name there is no slug to suggest either.
    expect(Object.keys(intakeErrors(parsed.errors)).sort()).toEqual(['intake_company', 'intake_slug']);
  });

  it('takes a plan named like a JavaScript property ("constructor") for no plan: no feature boxes, and the plan is asked for', () => {
    const view = intakeModal({ plans, privateMetadata: '', today, selectedPlan: 'constructor' });
    expect(view.blocks.some((b) => b.block_id?.startsWith(INTAKE_BLOCKS.featureOverrides.blockId))).toBe(false);
    const sent: ViewStateValues = JSON.parse(
      JSON.stringify(submit(view, { ...growthDeal, [INTAKE_BLOCKS.plan.blockId]: 'growth' })).replaceAll('"growth"', '"constructor"'),
    );
    const parsed = parseIntake(readIntakeSubmission(sent, plans, 'alice.ae'), plans, today);
    if (parsed.ok) throw new Error('expected the plan to be refused');
    expect(Object.keys(intakeErrors(parsed.errors))).toEqual(['intake_plan']);
  });

  it('asks for every answer when a submission carries no values at all', () => {
    const none: ViewStateValues = JSON.parse('null');
    const parsed = parseIntake(readIntakeSubmission(none, plans, 'alice.ae'), plans, today);
    if (parsed.ok) throw new Error('expected every answer to be asked for');
    expect(Object.keys(intakeErrors(parsed.errors))).toContain('intake_company');
  });
});

describe('intakeErrors', () => {
  it('puts errors of fields without a block on the company block, joined', () => {
    expect(
      intakeErrors([
        { field: 'companyName', message: 'Enter the company name' },
        { field: 'requestedBy', message: 'Enter the name of the person requesting this tenant' },
        { field: 'featureOverrides', message: 'Unknown feature flag "x"' },
      ]),
    ).toEqual({
      intake_company: 'Enter the company name; Enter the name of the person requesting this tenant',
      intake_plan: 'Unknown feature flag "x"',
    });
  });
});
