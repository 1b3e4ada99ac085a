// The intake: the business facts an account executive knows when a deal closes.
// Every technical parameter (database, DNS name, secret path…) is derived from
// it, never typed. The CLI flags and the Slack modal share this parser.
import { z } from 'zod';
import { parseFeatureOverrides } from './feature-overrides.ts';
import { billingStartProblem, contractStartDateSchema, contractValueSchema, emailSchema, oneOf, text } from './intake-fields.ts';
import { approvalReasons, effectiveFeatures, planNamed, residencyProblem } from './plan.ts';
import { hasVisibleCharacter, printable } from './text-safety.ts';
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

/** Latin letters that Unicode does not take apart into a base letter and an accent. */
const LATIN_LETTERS: Readonly<Record<string, string>> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i' };

/**
 * A slug proposal: "Acme Corp, Inc." → "acme-corp"; always passes slugSchema.
 * Undefined when the name has letters or digits a hostname cannot spell
 * ("株式会社", "Ωmega"): dropping them would propose someone else's name, so a
 * person has to choose the slug.
 */
export function suggestSlug(companyName: string): string | undefined {
  const latin = companyName
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþı]/g, (letter) => LATIN_LETTERS[letter] ?? letter);
  if (/[\p{L}\p{N}]/u.test(latin.replace(/[a-z0-9]/g, ''))) return undefined;
  const base = latin
    .trim()
    .replace(LEGAL_SUFFIX, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/, '');
  if (base === '') return undefined;
  if (base.length < SLUG_MIN || RESERVED_SLUGS.has(base)) return `${base}-co`;
  return base;
}

function featureOverridesSchema(knownFlags: readonly string[]) {
  // optional(): a missing field reaches the parser, which reads it as no overrides.
  return z
    .unknown()
    .optional()
    .transform((raw, ctx): Record<string, boolean> => {
      const parsed = parseFeatureOverrides(raw, knownFlags);
      if (parsed.ok) return parsed.overrides;
      ctx.addIssue({ code: 'custom', message: parsed.problems.join('; '), input: raw });
      return z.NEVER;
    });
}

/**
 * The intake's fields, one parser each, described in the business's words
 * (the HTTP API's OpenAPI document is generated from these descriptions).
 * `intakeSchema` checks them together.
 */
export function intakeFields(plans: PlansManifest, today: Date = new Date()) {
  const planIds = Object.keys(plans.plans);
  const flags = Object.keys(plans.featureFlags);
  return {
    companyName: text('company name', 120).meta({ description: "The customer's company name, as on the contract.", examples: ['Acme Corp'] }),
    slug: slugSchema.meta({ description: "The tenant's short name: its hostname is <slug>.<base domain>.", examples: ['acme'] }),
    adminEmail: emailSchema.meta({ description: "The customer admin's email address: the first user, and where the welcome email goes." }),
    plan: oneOf('plan', planIds).meta({ enum: planIds, description: 'The plan sold.' }),
    contractStartDate: contractStartDateSchema(today).meta({
      description: "The day the contract starts (YYYY-MM-DD): at most 30 days ago, and with the plan's trial at most 730 days ahead.",
      examples: ['2026-11-02'],
    }),
    contractValue: contractValueSchema.meta({
      description: 'The contract value, exact to the cent: a number (120000.5) or text as typed ("120,000.50"); at most 1,000,000,000,000.',
      anyOf: [{ type: 'number', minimum: 0 }, { type: 'string' }],
    }),
    // Only a missing residency takes the default; an empty one is asked for.
    dataResidency: oneOf('data residency', plans.dataResidencies)
      .meta({ enum: [...plans.dataResidencies], description: "Where the tenant's data is kept." })
      .default(plans.defaultDataResidency),
    featureOverrides: featureOverridesSchema(flags).meta({
      description: 'Negotiated features that differ from the plan: flag → on or off (true, false, "on", "off").',
      type: 'object',
      propertyNames: { enum: flags },
      additionalProperties: { anyOf: [{ type: 'boolean' }, { enum: ['on', 'off', 'true', 'false'] }] },
    }),
    crmOpportunityId: text('CRM opportunity id', 64)
      .regex(/^[A-Za-z0-9_-]+$/, {
        error: 'CRM opportunity id may only contain letters, digits, "_" and "-", e.g. 006Dn00000AbCdE',
      })
      .meta({ description: 'The CRM opportunity this deal is: one opportunity, one tenant.', examples: ['006Dn00000AbCdE'] }),
    requestedBy: text('name of the person requesting this tenant', 120),
  };
}

/**
 * The body a program sends to ask for a tenant (the HTTP API): the intake's
 * fields but the requester, which is the caller. For documenting it; the
 * intake parser checks it.
 */
export function crmRequestSchema(plans: PlansManifest, today: Date = new Date()) {
  const { requestedBy: _theCaller, ...fields } = intakeFields(plans, today);
  return z.strictObject(fields);
}

/** The intake parser for the plans in this manifest; `today` anchors the start-date rules. */
export function intakeSchema(plans: PlansManifest, today: Date = new Date()) {
  return z.strictObject(intakeFields(plans, today)).superRefine((intake, ctx) => {
    const plan = planNamed(plans, intake.plan);
    // The plan's trial pushes the first bill past the contract start.
    const problem = billingStartProblem(intake.contractStartDate, plan?.billing.trialDays ?? 0, today);
    if (problem) ctx.addIssue({ code: 'custom', path: ['contractStartDate'], message: problem, input: intake.contractStartDate });
    const elsewhere = plan ? residencyProblem(plan, intake.dataResidency) : undefined;
    if (elsewhere) ctx.addIssue({ code: 'custom', path: ['dataResidency'], message: elsewhere, input: intake.dataResidency });
  });
}

export type Intake = z.output<ReturnType<typeof intakeSchema>>;

export type IntakeFieldError = { field: string; message: string };

export type IntakeResult = { ok: true; intake: Intake } | { ok: false; errors: IntakeFieldError[] };

/**
 * The parser of each plans manifest for one calendar day. Building one costs
 * about a millisecond (zod compiles it on its first use), far more than a
 * parse; its rules change only with the plans and the day (every date rule
 * counts local calendar days from `today`), so one serves the whole day.
 */
const parsersOfTheDay = new WeakMap<PlansManifest, { day: string; parser: ReturnType<typeof intakeSchema> }>();

function intakeParser(plans: PlansManifest, today: Date): ReturnType<typeof intakeSchema> {
  const day = `${today.getFullYear()}-${today.getMonth() + 1}-${today.getDate()}`;
  const kept = parsersOfTheDay.get(plans);
  if (kept?.day === day) return kept.parser;
  const parser = intakeSchema(plans, today);
  parsersOfTheDay.set(plans, { day, parser });
  return parser;
}

/** Parses raw intake into either a valid intake or one message per field (for modal errors). */
export function parseIntake(raw: unknown, plans: PlansManifest, today: Date = new Date()): IntakeResult {
  const result = intakeParser(plans, today).safeParse(raw);
  if (result.success) return { ok: true, intake: result.data };
  const errors = new Map<string, string>();
  for (const issue of result.error.issues) {
    for (const { field, message } of fieldErrors(issue)) {
      if (!errors.has(field)) errors.set(field, message);
    }
  }
  const unsuggested = slugNotSuggested(raw);
  if (unsuggested && errors.has('slug')) errors.set('slug', unsuggested);
  return { ok: false, errors: [...errors].map(([field, message]) => ({ field, message })) };
}

/** Why a door that suggests slugs (the modal, the CLI) had none to give: the slug must be chosen. */
export function slugNotSuggestedMessage(companyName: string, choose = 'choose a slug of lowercase letters, digits and hyphens'): string {
  return `No slug can be suggested from "${printable(companyName.trim())}" (a hostname needs Latin letters or digits); ${choose}`;
}

function slugNotSuggested(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object' || Reflect.get(raw, 'slug') !== undefined) return undefined;
  const companyName: unknown = Reflect.get(raw, 'companyName');
  if (typeof companyName !== 'string' || !hasVisibleCharacter(companyName) || suggestSlug(companyName) !== undefined) return undefined;
  return slugNotSuggestedMessage(companyName);
}

function fieldErrors(issue: z.core.$ZodIssue): IntakeFieldError[] {
  if (issue.code === 'unrecognized_keys') {
    // A key with no name cannot name itself: the problem is then the intake's.
    return issue.keys.map((key) =>
      key.trim() === ''
        ? { field: 'intake', message: 'A field with an empty name is not an intake field' }
        : { field: key, message: `"${key}" is not an intake field` },
    );
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
  /** The AWS region of the tenant's data residency (plans.yaml residencyRegions); absent when the manifest maps none. */
  region?: string;
};

/** A dedicated plan gets the tenant's own database; a shared one, the shared database. */
export function tenantDatabaseName(slug: string, plan: Pick<Plan, 'isolation'>, settings: Pick<TenantSettings, 'sharedDatabaseName'>): string {
  return plan.isolation === 'dedicated' ? `tenant_${slug.replaceAll('-', '_')}` : settings.sharedDatabaseName;
}

/** The technical parameters of a tenant, all derived from the intake and its plan. */
export function deriveTenant(
  intake: Intake,
  plan: Plan,
  settings: TenantSettings,
  residencyRegions: Readonly<Record<string, string>> = {},
): DerivedTenant {
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
    ...(Object.hasOwn(residencyRegions, intake.dataResidency) ? { region: residencyRegions[intake.dataResidency] } : {}),
  };
}
