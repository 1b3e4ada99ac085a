// The intake: the business facts an account executive knows when a deal closes.
// Every technical parameter (database, DNS name, secret path…) is derived from
// it, never typed. The CLI flags and the Slack modal share this parser.
import { z } from 'zod';
// One module per function: the 'date-fns' index loads all of date-fns, seconds of start-up for every command.
import { differenceInCalendarDays } from 'date-fns/differenceInCalendarDays';
import { format } from 'date-fns/format';
import { isValid } from 'date-fns/isValid';
import { parse } from 'date-fns/parse';
import { subDays } from 'date-fns/subDays';
import { approvalReasons, effectiveFeatures } from './plan.ts';
import type { Plan, PlansManifest } from './plan.ts';

/** Hostnames we use ourselves, or that would confuse customers if given to a tenant. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'www',
  'api',
  'admin',
  'app',
  'apps',
  'mail',
  'email',
  'smtp',
  'imap',
  'ftp',
  'status',
  'support',
  'help',
  'docs',
  'blog',
  'billing',
  'login',
  'logout',
  'signup',
  'auth',
  'sso',
  'oauth',
  'account',
  'accounts',
  'static',
  'assets',
  'cdn',
  'media',
  'internal',
  'staging',
  'prod',
  'production',
  'dev',
  'test',
  'sandbox',
  'root',
  'system',
  'dashboard',
  'console',
  'portal',
  'webhooks',
  'ns1',
  'ns2',
  'localhost',
]);

const SLUG_MIN = 3;
const SLUG_MAX = 30;
const CONTRACT_START_GRACE_DAYS = 30;

export const slugSchema = z
  .string({ error: 'Enter a slug, e.g. acme-corp' })
  .trim()
  .min(SLUG_MIN, { error: `Slug must be at least ${SLUG_MIN} characters` })
  .max(SLUG_MAX, { error: `Slug must be at most ${SLUG_MAX} characters` })
  .regex(/^[a-z0-9-]*$/, { error: 'Slug may only contain lowercase letters, digits and hyphens' })
  .refine((slug) => !slug.startsWith('-') && !slug.endsWith('-'), { error: 'Slug may not start or end with a hyphen' })
  .refine((slug) => !slug.includes('--'), { error: 'Slug may not contain two hyphens in a row' })
  .refine((slug) => !RESERVED_SLUGS.has(slug), {
    error: (issue) => `"${String(issue.input)}" is reserved for our own hostnames; choose another slug, e.g. "${String(issue.input)}-co"`,
  });

// Trailing legal forms say nothing about the customer and only lengthen hostnames.
const LEGAL_SUFFIX = /[\s,]+(inc|incorporated|ltd|limited|llc|gmbh|ag|plc|sa|sas|sarl|bv|nv|pty|oy|ab|srl|spa)\.?$/i;

/** A slug proposal for the modal: "Acme Corp, Inc." → "acme-corp"; always passes slugSchema. */
export function suggestSlug(companyName: string): string {
  const base = companyName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .replace(LEGAL_SUFFIX, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/, '');
  if (base === '') return 'tenant';
  if (base.length < SLUG_MIN || RESERVED_SLUGS.has(base)) return `${base}-co`;
  return base;
}

const text = (label: string, max: number) =>
  z
    .string({ error: `Enter the ${label}` })
    .trim()
    .min(1, { error: `Enter the ${label}` })
    .max(max, { error: `The ${label} must be at most ${max} characters` });

function contractStartDateSchema(today: Date) {
  const earliest = subDays(today, CONTRACT_START_GRACE_DAYS);
  return z
    .string({ error: 'Enter the contract start date as YYYY-MM-DD, e.g. 2026-11-02' })
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/, {
      error: 'Use the format YYYY-MM-DD for the contract start date, e.g. 2026-11-02',
      abort: true,
    })
    .refine((value) => isValid(parseDay(value)), {
      error: (issue) => `${String(issue.input)} is not a real calendar date`,
      abort: true,
    })
    .refine((value) => differenceInCalendarDays(today, parseDay(value)) <= CONTRACT_START_GRACE_DAYS, {
      error: (issue) =>
        `Contract start date ${String(issue.input)} is more than ${CONTRACT_START_GRACE_DAYS} days in the past; the earliest allowed is ${format(earliest, 'yyyy-MM-dd')}`,
    });
}

function parseDay(value: string): Date {
  return parse(value, 'yyyy-MM-dd', new Date(0));
}

// Amounts arrive as typed in a modal or CLI ("120,000"); numbers pass through.
const contractValueSchema = z.preprocess(
  (raw) => (typeof raw === 'string' && /^\d[\d,\s]*(\.\d+)?$/.test(raw.trim()) ? Number(raw.replace(/[,\s]/g, '')) : raw),
  z.number({ error: 'Enter the contract value as a number, e.g. 120000 or 120,000' }).nonnegative({ error: 'Contract value cannot be negative' }),
);

function oneOf(label: string, known: readonly string[]) {
  return z.string({ error: `Choose a ${label}: ${known.join(', ')}` }).refine((value) => known.includes(value), {
    error: (issue) => `Unknown ${label} "${String(issue.input)}"; choose one of: ${known.join(', ')}`,
  });
}

function featureOverridesSchema(knownFlags: readonly string[]) {
  return z
    .record(z.string(), z.boolean({ error: 'Feature overrides must be true or false' }))
    .default({})
    .superRefine((overrides, ctx) => {
      for (const flag of Object.keys(overrides).filter((name) => !knownFlags.includes(name))) {
        ctx.addIssue({
          code: 'custom',
          path: [flag],
          input: overrides,
          message: `Unknown feature flag "${flag}"; known flags: ${knownFlags.join(', ')}`,
        });
      }
    });
}

/** The intake parser for the plans in this manifest; `today` anchors the start-date rule. */
export function intakeSchema(plans: PlansManifest, today: Date = new Date()) {
  return z.strictObject({
    companyName: text('company name', 120),
    slug: slugSchema,
    adminEmail: z
      .string({ error: "Enter the customer admin's email address" })
      .trim()
      .pipe(z.email({ error: 'Enter a valid email address, e.g. jane@acme.com' })),
    plan: oneOf('plan', Object.keys(plans.plans)),
    contractStartDate: contractStartDateSchema(today),
    contractValue: contractValueSchema,
    dataResidency: oneOf('data residency', plans.dataResidencies).default(plans.defaultDataResidency),
    featureOverrides: featureOverridesSchema(Object.keys(plans.featureFlags)),
    crmOpportunityId: text('CRM opportunity id', 64).regex(/^[A-Za-z0-9_-]+$/, {
      error: 'CRM opportunity id may only contain letters, digits, "_" and "-", e.g. 006Dn00000AbCdE',
    }),
    requestedBy: text('name of the person requesting this tenant', 120),
  });
}

export type Intake = z.output<ReturnType<typeof intakeSchema>>;

export type IntakeFieldError = { field: string; message: string };

export type IntakeResult = { ok: true; intake: Intake } | { ok: false; errors: IntakeFieldError[] };

/** Parses raw intake into either a valid intake or one message per field (for modal errors). */
export function parseIntake(raw: unknown, plans: PlansManifest, today?: Date): IntakeResult {
  const result = intakeSchema(plans, today).safeParse(raw);
  if (result.success) return { ok: true, intake: result.data };
  const errors = new Map<string, string>();
  for (const issue of result.error.issues) {
    for (const { field, message } of fieldErrors(issue)) {
      if (!errors.has(field)) errors.set(field, message);
    }
  }
  return { ok: false, errors: [...errors].map(([field, message]) => ({ field, message })) };
}

function fieldErrors(issue: z.core.$ZodIssue): IntakeFieldError[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: key, message: `"${key}" is not an intake field` }));
  }
  return [{ field: String(issue.path[0] ?? 'intake'), message: issue.message }];
}

export type TenantSettings = {
  baseDomain: string;
  secretPrefix: string;
  sharedDatabaseName: string;
  /** Deployment values step configs may use as ${settings.…} (webhook endpoints, the DNS target). */
  pipeline?: Readonly<Record<string, string | number>>;
  /** The environment variable behind each ${settings.…} value, to name it when one is missing. */
  pipelineEnv?: Readonly<Record<string, string>>;
};

export type DerivedTenant = {
  tenantId: string;
  slug: string;
  companyName: string;
  planId: string;
  databaseName: string;
  isolation: Plan['isolation'];
  dnsName: string;
  tenantUrl: string;
  secretPath: string;
  billingMetadata: Record<string, string>;
  features: Record<string, boolean>;
  seedVersion: string;
  approvalReasons: string[];
};

/** A dedicated plan gets the tenant's own database; a shared one, the shared database. */
export function tenantDatabaseName(slug: string, plan: Pick<Plan, 'isolation'>, settings: Pick<TenantSettings, 'sharedDatabaseName'>): string {
  return plan.isolation === 'dedicated' ? `tenant_${slug.replaceAll('-', '_')}` : settings.sharedDatabaseName;
}

/** The technical parameters of a tenant, all derived from the intake and its plan. */
export function deriveTenant(intake: Intake, plan: Plan, settings: TenantSettings): DerivedTenant {
  const tenantId = `tnt_${intake.slug}`;
  const dnsName = `${intake.slug}.${settings.baseDomain}`;
  return {
    tenantId,
    slug: intake.slug,
    companyName: intake.companyName,
    planId: intake.plan,
    databaseName: tenantDatabaseName(intake.slug, plan, settings),
    isolation: plan.isolation,
    dnsName,
    tenantUrl: `https://${dnsName}`,
    secretPath: `${settings.secretPrefix}/${intake.slug}`,
    billingMetadata: { tenant_id: tenantId, crm_opportunity_id: intake.crmOpportunityId, plan: intake.plan },
    features: effectiveFeatures(plan, intake.featureOverrides),
    seedVersion: plan.seedVersion,
    approvalReasons: approvalReasons(plan, intake),
  };
}
