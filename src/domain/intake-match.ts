/**
 * When two intakes are the same deal. A CRM opportunity is one deal: the same
 * opportunity sent again with the same business facts (by anyone, typed a
 * little differently) follows the job it already has; with different facts it
 * is a mistake (a reused or mistyped id) and must not pass as success. The
 * CLI, the Slack modal and the HTTP API (409 with the fields) all ask here.
 */
import type { Intake } from './intake.ts';

/** The business fields of a deal, in the order a person reads them; who typed it (requestedBy) is not one. */
export const DEAL_FIELDS = [
  'companyName',
  'slug',
  'adminEmail',
  'plan',
  'contractStartDate',
  'contractValue',
  'dataResidency',
  'featureOverrides',
  'crmOpportunityId',
] as const;

/** Every field of an intake: the deal's, and who asked for it. */
export const INTAKE_FIELDS = [...DEAL_FIELDS, 'requestedBy'] as const;

export type DealField = (typeof DEAL_FIELDS)[number];

export type Deal = Pick<Intake, DealField>;

const LABELS: Readonly<Record<DealField, string>> = {
  companyName: 'company name',
  slug: 'slug',
  adminEmail: 'admin email',
  plan: 'plan',
  contractStartDate: 'contract start date',
  contractValue: 'contract value',
  dataResidency: 'data residency',
  featureOverrides: 'feature overrides',
  crmOpportunityId: 'CRM opportunity id',
};

/**
 * The business fields in which `b` differs from `a`; [] when they are the same
 * deal. Company names match whatever their case and spacing, email addresses
 * whatever their case, and a feature override matches the plan default it
 * restates (`planFeatures`, the features of the plan both name).
 */
export function intakeDifferences(a: Deal, b: Deal, planFeatures: Readonly<Record<string, boolean>> = {}): DealField[] {
  return DEAL_FIELDS.filter((field) => !SAME[field](a, b, planFeatures));
}

type Same = (a: Deal, b: Deal, planFeatures: Readonly<Record<string, boolean>>) => boolean;

const exactly =
  (field: DealField): Same =>
  (a, b) =>
    a[field] === b[field];

const SAME: Readonly<Record<DealField, Same>> = {
  companyName: (a, b) => nameKey(a.companyName) === nameKey(b.companyName),
  slug: exactly('slug'),
  adminEmail: (a, b) => a.adminEmail.toLowerCase() === b.adminEmail.toLowerCase(),
  plan: exactly('plan'),
  contractStartDate: exactly('contractStartDate'),
  contractValue: exactly('contractValue'),
  dataResidency: exactly('dataResidency'),
  featureOverrides: (a, b, planFeatures) => sameFeatures(a.featureOverrides, b.featureOverrides, planFeatures),
  crmOpportunityId: exactly('crmOpportunityId'),
};

function nameKey(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

function sameFeatures(
  a: Readonly<Record<string, boolean>>,
  b: Readonly<Record<string, boolean>>,
  defaults: Readonly<Record<string, boolean>>,
): boolean {
  const flags = new Set([...Object.keys(a), ...Object.keys(b)]);
  const setting = (overrides: Readonly<Record<string, boolean>>, flag: string) =>
    Object.hasOwn(overrides, flag) ? overrides[flag] : Object.hasOwn(defaults, flag) ? defaults[flag] : undefined;
  return [...flags].every((flag) => setting(a, flag) === setting(b, flag));
}

/** "company name, slug and plan". */
export function dealFieldsText(fields: readonly DealField[]): string {
  const labels = fields.map((field) => LABELS[field]);
  return labels.length > 1 ? `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)}` : (labels[0] ?? '');
}

/** What to tell someone whose request names an opportunity another deal already holds. */
export function opportunityTakenMessage(
  crmOpportunityId: string,
  holder: { slug: string; companyName: string; jobId: string },
  differences: readonly DealField[],
): string {
  return (
    `Opportunity ${crmOpportunityId} already belongs to tenant ${holder.slug} (${holder.companyName}, job ${holder.jobId}); ` +
    `this request differs in ${dealFieldsText(differences)}. Check the opportunity id, or send the same details to follow that job.`
  );
}
