/**
 * The intake, in-process: parseIntake on deal-like objects, JSON bodies and
 * anything at all; and the Slack modal's reader (readIntakeSubmission) on
 * arbitrary view state, followed by the errors it would show on the modal.
 * Properties: nothing throws; a refusal names, for every problem, a field the
 * person can find (an intake field, or a key they sent that is not one); the
 * modal shows every error on one of its own blocks.
 */
import { INTAKE_FIELDS as ALL_INTAKE_FIELDS } from '../../src/domain/intake-match.ts';
import fc from 'fast-check';
import { parseIntake } from '../../src/domain/intake.ts';
import type { PlansManifest } from '../../src/domain/plan.ts';
import { featureBlockId, INTAKE_BLOCKS, intakeErrors, readIntakeSubmission } from '../../src/slack/blocks/index.ts';
import { dealLike, fieldValue, jsonish, nastyString } from './arbitraries.ts';
import { errorText, type Findings, hasStackTrace } from './findings.ts';

/** Intake fields a rejection may name. */
export const INTAKE_FIELDS: ReadonlySet<string> = new Set(ALL_INTAKE_FIELDS);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks one parseIntake outcome; returns the problems (for the modal check). */
function checkParsed(findings: Findings, target: string, index: number, raw: unknown, plans: PlansManifest): { field: string; message: string }[] {
  let result: ReturnType<typeof parseIntake>;
  try {
    result = parseIntake(raw, plans);
  } catch (err) {
    findings.crash(target, index, `parseIntake threw ${errorText(err)}`, raw);
    return [];
  }
  if (result.ok) return [];
  if (result.errors.length === 0) findings.unnamed(target, index, 'refused with no problem listed', raw);
  // A key the caller sent names itself ("… is not an intake field"); a body that is not an object, or a key
  // with no name, has no field to name but the intake itself.
  const keys = isPlainObject(raw) ? Object.keys(raw) : [];
  const sent = new Set(keys.filter((k) => k.trim() !== ''));
  if (!isPlainObject(raw) || keys.some((k) => k.trim() === '')) sent.add('intake');
  for (const { field, message } of result.errors) {
    if (field === '' || !(INTAKE_FIELDS.has(field) || sent.has(field)))
      findings.unnamed(target, index, `problem names field ${JSON.stringify(field)}: ${message}`, raw);
    if (message.trim() === '') findings.unnamed(target, index, `problem on ${field} has no message`, raw);
    if (hasStackTrace(message)) findings.crash(target, index, `stack trace in the message for ${field}: ${message}`, raw);
  }
  return result.errors;
}

export function fuzzIntake(findings: Findings, plans: PlansManifest, cases: number, seed: number): void {
  const deals = dealLike(Object.keys(plans.plans), plans.dataResidencies, Object.keys(plans.featureFlags));
  // As the CLI and an API hand it over: an object; as a JSON body: parsed text (own "__proto__" keys and all); or anything.
  const raw = fc.oneof(
    { weight: 5, arbitrary: deals },
    { weight: 2, arbitrary: deals.map((d) => jsonRoundTrip(d)) },
    { weight: 1, arbitrary: jsonish },
  );
  for (const input of fc.sample(raw, { numRuns: cases, seed })) {
    checkParsed(findings, 'intake', findings.tried('intake'), input, plans);
  }
}

/** Parsed back from JSON text, as a request body arrives: `undefined` vanishes, `NaN` becomes null. */
function jsonRoundTrip(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value) ?? 'null');
  } catch {
    return value;
  }
}

/** `view.state.values` as Slack could send them: our blocks and others, right and wrong shapes. */
function viewState(plans: PlansManifest): fc.Arbitrary<unknown> {
  const planIds = Object.keys(plans.plans);
  const blockIds = [...Object.values(INTAKE_BLOCKS).map((b) => b.blockId), ...planIds.flatMap((p) => [featureBlockId(p, 0), featureBlockId(p, 1)])];
  const actionIds = Object.values(INTAKE_BLOCKS).map((b) => b.actionId);
  const option = fc.record(
    { value: fieldValue(fc.constantFrom(...planIds, ...plans.dataResidencies, ...Object.keys(plans.featureFlags))) },
    { requiredKeys: [] },
  );
  const value = fc.record(
    {
      type: fieldValue(fc.constantFrom('plain_text_input', 'static_select', 'datepicker', 'number_input', 'email_text_input', 'checkboxes')),
      value: fieldValue(nastyString),
      selected_option: fieldValue(option),
      selected_date: fieldValue(fc.constantFrom('2026-01-01', '2099-12-31', '')),
      selected_options: fieldValue(fc.array(option, { maxLength: 4 })),
    },
    { requiredKeys: [] },
  );
  const actions = fc.dictionary(fc.oneof(fc.constantFrom(...actionIds), nastyString), fieldValue(value), { maxKeys: 3 });
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...blockIds) }, { weight: 1, arbitrary: nastyString }), actions, {
        maxKeys: 12,
      }),
    },
    { weight: 1, arbitrary: jsonish },
  );
}

const MODAL_BLOCKS: ReadonlySet<string> = new Set(Object.values(INTAKE_BLOCKS).map((b) => b.blockId));

export function fuzzModal(findings: Findings, plans: PlansManifest, cases: number, seed: number): void {
  const submissions = fc.tuple(viewState(plans), fieldValue(fc.constant('Jane Ae (U0AE00001)')));
  for (const [state, requestedBy] of fc.sample(submissions, { numRuns: cases, seed })) {
    const index = findings.tried('slack modal');
    const input = { state, requestedBy };
    // Through JSON, as Bolt hands the payload over: typed by Bolt, shaped by whoever sent it.
    const values = JSON.parse(JSON.stringify(state) ?? '{}');
    const by = JSON.parse(JSON.stringify(requestedBy) ?? 'null');
    let raw: Record<string, unknown>;
    try {
      raw = readIntakeSubmission(values, plans, by);
    } catch (err) {
      findings.crash('slack modal', index, `readIntakeSubmission threw ${errorText(err)}`, input);
      continue;
    }
    const problems = checkParsed(findings, 'slack modal', index, raw, plans);
    if (problems.length === 0) continue;
    try {
      for (const [block, message] of Object.entries(intakeErrors(problems))) {
        if (!MODAL_BLOCKS.has(block))
          findings.unnamed('slack modal', index, `error shown on block ${JSON.stringify(block)}, not on the modal`, input);
        if (message.trim() === '') findings.unnamed('slack modal', index, `empty error on block ${block}`, input);
      }
    } catch (err) {
      findings.crash('slack modal', index, `intakeErrors threw ${errorText(err)}`, input);
    }
  }
}
