// manifests/salesforce.yaml: which Opportunity field holds each business fact
// of the intake, and what Salesforce's picklist values mean here. Salesforce
// admins name fields as they like (Plan__c, Admin_Email__c…); this file says
// which, so the bot never guesses. Optional: without it Salesforce's outbound
// messages are refused (a SOAP fault saying so), never half-read.
import { z } from 'zod';
import type { PlansManifest } from '../domain/plan.ts';

/** A field's API name as Salesforce spells it: letters, digits and "_", e.g. CloseDate or Plan__c. */
const FieldNameSchema = z
  .string({ error: 'expected a Salesforce field API name, e.g. Plan__c' })
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, { error: 'a Salesforce field API name has letters, digits and "_" (at most 80), e.g. Plan__c' });

/** A picklist value as Salesforce sends it (the API value, not the label shown to people). */
const PicklistValueSchema = z.string().trim().min(1, { error: 'a Salesforce picklist value cannot be empty' });

export const SalesforceMapSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1' }),
  object: z.literal('Opportunity', { error: 'only Opportunity outbound messages are mapped: object must be Opportunity' }),
  fields: z.strictObject({
    companyName: FieldNameSchema,
    plan: FieldNameSchema,
    adminEmail: FieldNameSchema,
    contractStartDate: FieldNameSchema,
    contractValue: FieldNameSchema,
    // Unmapped: the plans' default residency; the slug is suggested from the company name.
    dataResidency: FieldNameSchema.optional(),
    slug: FieldNameSchema.optional(),
  }),
  plans: z
    .record(PicklistValueSchema, z.string({ error: 'expected a plan id from plans.yaml' }))
    .refine((plans) => Object.keys(plans).length > 0, { error: 'map at least one Salesforce plan value to a plan id' }),
  /** Picklist value → data residency; without it the value Salesforce sends must be one of plans.yaml's residencies. */
  dataResidencies: z.record(PicklistValueSchema, z.string({ error: 'expected a data residency from plans.yaml' })).optional(),
});

export type SalesforceMap = z.output<typeof SalesforceMapSchema>;

export type MapProblem = { at: (string | number)[]; message: string };

/** What the field map names that plans.yaml does not have: plans and residencies, each where it is written. */
export function checkSalesforceMap(map: SalesforceMap, plans: PlansManifest): MapProblem[] {
  const planIds = Object.keys(plans.plans);
  const planProblems = Object.entries(map.plans)
    .filter(([, planId]) => !Object.hasOwn(plans.plans, planId))
    .map(([value, planId]) => ({ at: ['plans', value], message: `unknown plan "${planId}" (plans.yaml has: ${planIds.join(', ')})` }));
  const residencyProblems = Object.entries(map.dataResidencies ?? {})
    .filter(([, residency]) => !plans.dataResidencies.includes(residency))
    .map(([value, residency]) => ({
      at: ['dataResidencies', value],
      message: `unknown data residency "${residency}" (plans.yaml has: ${plans.dataResidencies.join(', ')})`,
    }));
  const residencyUnmapped =
    map.dataResidencies !== undefined && map.fields.dataResidency === undefined
      ? [{ at: ['dataResidencies'], message: 'dataResidencies maps values of no field: name the field in fields.dataResidency, or remove this' }]
      : [];
  return [...planProblems, ...residencyProblems, ...residencyUnmapped];
}
