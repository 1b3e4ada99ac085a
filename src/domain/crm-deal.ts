/**
 * Deals a CRM sends by itself (Salesforce outbound messages), and those among
 * them that need a person. A CRM cannot be asked to fix its message the way
 * a person fixes a form, so what the field map cannot resolve (a plan name
 * nobody mapped, a missing admin email) or what the intake refuses is kept
 * as a pending intake, shown in #onboarding, and completed by a person.
 */
import type { DealField } from './intake-match.ts';
import type { IntakeFieldError } from './intake.ts';

/** The intake fields a person can be shown prefilled (feature overrides are chosen with the plan). */
export type PrefillField = Exclude<DealField, 'featureOverrides'>;

export type SentField = { field: string; value: string | null };

export type CrmDeal = {
  /** The CRM's id for this delivery (Salesforce: the Notification Id); a redelivery carries the same one. */
  deliveryId: string;
  opportunityId: string;
  /** What the CRM sent, field by field, named as the CRM names them: for the person who completes it. */
  sent: readonly SentField[];
  /** The raw intake, as far as the fields could be mapped, for parseIntake. */
  intake: Readonly<Record<string, unknown>>;
  /** What the mapping could not resolve, by intake field. */
  problems: readonly IntakeFieldError[];
};

export type PendingIntake = {
  /** The delivery id: the same delivery recorded twice is one pending intake. */
  id: string;
  /** Where it came from, in words ("Salesforce"). */
  source: string;
  opportunityId: string;
  receivedAt: Date;
  sent: readonly SentField[];
  /** What the intake modal opens with. */
  prefill: Partial<Record<PrefillField, string>>;
  problems: readonly IntakeFieldError[];
  /** Set once the notice is posted: where it is (opaque to all but the adapter that posted it). */
  notice?: { at: Date; ref: string };
  /** Set once a person provisioned it. */
  completed?: { by: string; jobId: string; slug: string; at: Date };
};

const PREFILL_FIELDS: readonly PrefillField[] = [
  'companyName',
  'slug',
  'adminEmail',
  'plan',
  'contractStartDate',
  'contractValue',
  'dataResidency',
  'crmOpportunityId',
];

/** The intake's fields as text for a form: whatever is a string or a number, nothing else. */
export function prefillOf(intake: Readonly<Record<string, unknown>>): Partial<Record<PrefillField, string>> {
  const prefill: Partial<Record<PrefillField, string>> = {};
  for (const field of PREFILL_FIELDS) {
    const value = intake[field];
    if (typeof value === 'string' && value.trim() !== '') prefill[field] = value.trim();
    else if (typeof value === 'number' && Number.isFinite(value)) prefill[field] = String(value);
  }
  return prefill;
}
