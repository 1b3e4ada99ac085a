/**
 * An Opportunity from an outbound message → a CRM deal: the intake's fields
 * read through the field map (manifests/salesforce.yaml), Salesforce's
 * picklist values translated to plan ids and residencies, its number and date
 * formats to the intake's. Whatever cannot be resolved is named as a problem
 * of the intake field it was meant for, naming the Salesforce field too; the
 * intake's own rules (parseIntake) are applied later, by the service.
 */
import type { CrmDeal, SentField } from '../../../../domain/crm-deal.ts';
import type { IntakeFieldError } from '../../../../domain/intake.ts';
import { suggestSlug } from '../../../../domain/intake.ts';
import type { SalesforceMap } from '../../../../manifests/salesforce.ts';
import type { OpportunityFields } from './envelope.ts';

type Notification = { id: string; opportunityId: string; fields: OpportunityFields };

type Mapped = keyof SalesforceMap['fields'];

const LABELS: Readonly<Record<Mapped, string>> = {
  companyName: 'company name',
  plan: 'plan',
  adminEmail: "customer admin's email",
  contractStartDate: 'contract start date',
  contractValue: 'contract value',
  dataResidency: 'data residency',
  slug: 'slug',
};

/** An xsd:double as Salesforce (Java) writes it: 120000.0, or 1.2E7 from ten million up. */
const DOUBLE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** An xsd:date, or the date of an xsd:dateTime when the admin mapped a date-time field. */
const DATE = /^(\d{4}-\d{2}-\d{2})(?:T[\d:.]+)?(?:Z|[+-]\d{2}:\d{2})?$/;

export function opportunityDeal(notification: Notification, map: SalesforceMap): CrmDeal {
  const problems: IntakeFieldError[] = [];
  const read = (field: Mapped, required: boolean): string | undefined => {
    const name = map.fields[field];
    if (name === undefined) return undefined;
    const value = notification.fields.get(name);
    if (value === undefined && required) {
      problems.push({ field, message: `Salesforce did not send ${name} (the ${LABELS[field]}); add it to the outbound message's fields` });
    } else if ((value === null || value?.trim() === '') && required) {
      problems.push({ field, message: `${name} (the ${LABELS[field]}) is empty in Salesforce` });
    }
    const trimmed = value?.trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const companyName = read('companyName', true);
  const intake: Record<string, unknown> = {
    companyName,
    slug: read('slug', false) ?? (companyName === undefined ? undefined : suggestSlug(companyName)),
    adminEmail: read('adminEmail', true),
    plan: picked(read('plan', true), map.plans, 'plan', map.fields.plan, problems),
    contractStartDate: dateOf(read('contractStartDate', true)),
    contractValue: amountOf(read('contractValue', true)),
    dataResidency: residencyOf(read('dataResidency', false), map, problems),
    featureOverrides: {},
    crmOpportunityId: notification.opportunityId,
  };
  return {
    deliveryId: notification.id,
    opportunityId: notification.opportunityId,
    sent: sentFields(notification, map),
    // Absent answers are left out, so the intake says "Enter the …" rather than a type error.
    intake: Object.fromEntries(Object.entries(intake).filter(([, value]) => value !== undefined)),
    problems,
  };
}

/** A picklist value through its map; an unmapped one is named with the values that are mapped. */
function picked(
  value: string | undefined,
  mapping: Readonly<Record<string, string>>,
  field: 'plan' | 'dataResidency',
  sfField: string | undefined,
  problems: IntakeFieldError[],
): string | undefined {
  if (value === undefined) return undefined;
  if (Object.hasOwn(mapping, value)) return mapping[value];
  const known = Object.keys(mapping).map((v) => `"${v}"`);
  problems.push({
    field,
    message: `Salesforce's ${LABELS[field]} "${value}" (${sfField}) is not mapped in salesforce.yaml (mapped: ${known.join(', ')}); choose the ${LABELS[field]}`,
  });
  return undefined;
}

function residencyOf(value: string | undefined, map: SalesforceMap, problems: IntakeFieldError[]): string | undefined {
  // Without a residency map, Salesforce's value must already be one of plans.yaml's: the intake checks it.
  if (map.dataResidencies === undefined) return value;
  return picked(value, map.dataResidencies, 'dataResidency', map.fields.dataResidency, problems);
}

function amountOf(value: string | undefined): string | number | undefined {
  if (value === undefined || !DOUBLE.test(value)) return value;
  return Number(value);
}

function dateOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : (DATE.exec(value)?.[1] ?? value);
}

/** The Opportunity's mapped fields as sent (and its Id), in the map's order: what a person completing it sees. */
function sentFields(notification: Notification, map: SalesforceMap): SentField[] {
  const names = ['Id', ...Object.values(map.fields).filter((name) => name !== undefined)];
  return [...new Set(names)]
    .filter((name) => notification.fields.has(name))
    .map((name) => ({ field: name, value: notification.fields.get(name) ?? null }));
}
