/**
 * The business facts on the command line, shared by `provision` and its dry
 * run `plan`: the same options, read the same way, so a preview is of exactly
 * the request that provision would make.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '../domain/errors.ts';

export type IntakeOptions = {
  company: string;
  slug?: string;
  adminEmail: string;
  plan: string;
  startDate: string;
  value: string;
  residency?: string;
  feature: string[];
  opportunity: string;
};

export function withIntakeOptions(command: Command): Command {
  return command
    .requiredOption('--company <name>', 'customer company name')
    .option('--slug <slug>', 'tenant slug (default: suggested from the company name)')
    .requiredOption('--admin-email <email>', "customer admin's email")
    .requiredOption('--plan <plan>', 'plan tier (starter, growth, enterprise…)')
    .option('--start-date <YYYY-MM-DD>', 'contract start date', new Date().toISOString().slice(0, 10))
    .option('--value <amount>', 'contract value', '0')
    .option('--residency <region>', 'data residency region')
    .option('--feature <flag=on|off>', 'negotiated feature override (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .requiredOption('--opportunity <id>', 'CRM opportunity id (the same id twice gives the same job)');
}

/** The raw intake the options describe; the intake parser (the same for every door) judges it. */
export async function intakeFromOptions(o: IntakeOptions, requestedBy: string): Promise<Record<string, unknown>> {
  const { slugNotSuggestedMessage, suggestSlug } = await import('../domain/intake.ts');
  const slug = o.slug ?? suggestSlug(o.company);
  if (slug === undefined) {
    throw new InvalidInputError([{ field: 'slug', message: slugNotSuggestedMessage(o.company, 'choose a slug with --slug, e.g. --slug acme-jp') }]);
  }
  return {
    companyName: o.company,
    slug,
    adminEmail: o.adminEmail,
    plan: o.plan,
    contractStartDate: o.startDate,
    contractValue: o.value,
    // Only a missing --residency takes the default: an empty one is an error, not "us".
    ...(o.residency !== undefined ? { dataResidency: o.residency } : {}),
    // "flag=on|off" strings: the intake parser reads them, for every door alike.
    featureOverrides: o.feature,
    crmOpportunityId: o.opportunity,
    requestedBy,
  };
}
