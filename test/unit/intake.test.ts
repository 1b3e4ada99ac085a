import { describe, it, expect } from 'vitest';
import { deriveTenant, intakeSchema, parseIntake, RESERVED_SLUGS, slugSchema, suggestSlug } from '../../src/domain/intake.ts';
import type { Intake } from '../../src/domain/intake.ts';
import { approvalReasons, checkPlansCatalogue, effectiveFeatures, PlansManifestSchema } from '../../src/domain/plan.ts';
import type { Plan } from '../../src/domain/plan.ts';

// Three plans shaped like the real catalogue, kept here so the expectations below
// do not move when sales changes prices or limits in manifests/plans.yaml.
const plans = PlansManifestSchema.parse({
  version: 1,
  featureFlags: {
    sso: { description: 'Single sign-on' },
    audit_log: { description: 'Audit log' },
    api_access: { description: 'API access' },
  },
  tenantLimits: {
    users: { description: 'Seats' },
    storage_gb: { description: 'Storage' },
    api_calls_per_day: { description: 'API quota' },
  },
  dataResidencies: ['us', 'eu', 'uk', 'au'],
  defaultDataResidency: 'us',
  plans: {
    starter: {
      displayName: 'Starter',
      features: { sso: false, audit_log: false, api_access: true },
      limits: { users: 10, storage_gb: 50, api_calls_per_day: 10_000 },
      billing: { priceRef: 'price_starter_monthly', trialDays: 14 },
      isolation: 'shared',
      seedVersion: '2026.11.0',
    },
    growth: {
      displayName: 'Growth',
      features: { sso: true, audit_log: true, api_access: true },
      limits: { users: 100, storage_gb: 500, api_calls_per_day: 100_000 },
      billing: { priceRef: 'price_growth_annual' },
      isolation: 'shared',
      seedVersion: '2026.11.0',
      approval: { contractValueAtLeast: 100_000 },
    },
    enterprise: {
      displayName: 'Enterprise',
      features: { sso: true, audit_log: true, api_access: true },
      limits: { users: 1000, storage_gb: 5000, api_calls_per_day: 1_000_000 },
      billing: { priceRef: 'price_enterprise_annual', meters: ['api_calls'] },
      isolation: 'dedicated',
      seedVersion: '2026.11.0',
      approval: { requireForDataResidency: ['eu', 'uk', 'au'] },
    },
  },
});

function planNamed(id: string): Plan {
  const plan = plans.plans[id];
  if (!plan) throw new Error(`test fixture has no plan ${id}`);
  return plan;
}

// 25 November 2026, local time, so "30 days ago" is 26 October 2026.
const today = new Date(2026, 10, 25);

// What the Slack modal hands over: every value is text, as typed.
const modalSubmission = {
  companyName: '  Acme Corp, Inc. ',
  slug: 'acme-corp',
  adminEmail: 'jane@acme.com',
  plan: 'growth',
  contractStartDate: '2026-12-01',
  contractValue: '120,000',
  crmOpportunityId: '006Dn00000AbCdE',
  requestedBy: 'Sam Seller',
};

function errorsFor(raw: Record<string, unknown>): Record<string, string> {
  const result = parseIntake(raw, plans, today);
  if (result.ok) throw new Error('expected the intake to be rejected');
  return Object.fromEntries(result.errors.map((error) => [error.field, error.message]));
}

function accepted(raw: Record<string, unknown>): Intake {
  const result = parseIntake(raw, plans, today);
  if (!result.ok) throw new Error(`expected the intake to be accepted: ${JSON.stringify(result.errors)}`);
  return result.intake;
}

describe('an AE submits a closed deal from the Slack modal', () => {
  it('gets a clean intake: text trimmed, "120,000" read as a number, residency and overrides defaulted', () => {
    expect(accepted(modalSubmission)).toEqual({
      companyName: 'Acme Corp, Inc.',
      slug: 'acme-corp',
      adminEmail: 'jane@acme.com',
      plan: 'growth',
      contractStartDate: '2026-12-01',
      contractValue: 120_000,
      dataResidency: 'us',
      featureOverrides: {},
      crmOpportunityId: '006Dn00000AbCdE',
      requestedBy: 'Sam Seller',
    });
  });

  it('the CLI and HTTP API may send the contract value as a plain number', () => {
    expect(accepted({ ...modalSubmission, contractValue: 250_000 }).contractValue).toBe(250_000);
    expect(accepted({ ...modalSubmission, contractValue: '99 500.50' }).contractValue).toBe(99_500.5);
  });

  it('submits an empty form and sees what to enter on every required field', () => {
    expect(errorsFor({})).toEqual({
      companyName: 'Enter the company name',
      slug: 'Enter a slug, e.g. acme-corp',
      adminEmail: "Enter the customer admin's email address",
      plan: 'Choose a plan: starter, growth, enterprise',
      contractStartDate: 'Enter the contract start date as YYYY-MM-DD, e.g. 2026-11-02',
      contractValue: 'Enter the contract value as a number, e.g. 120000 or 120,000',
      crmOpportunityId: 'Enter the CRM opportunity id',
      requestedBy: 'Enter the name of the person requesting this tenant',
    });
  });

  it('leaves the company name blank (only spaces) and is asked for it', () => {
    expect(errorsFor({ ...modalSubmission, companyName: '   ' })).toEqual({ companyName: 'Enter the company name' });
  });

  it('pastes a 121-character company name and is told the limit', () => {
    expect(errorsFor({ ...modalSubmission, companyName: 'A'.repeat(121) })).toEqual({
      companyName: 'The company name must be at most 120 characters',
    });
  });

  it('sends a field the intake does not have (a typo from an HTTP client) and is told which one', () => {
    expect(errorsFor({ ...modalSubmission, admin_email: 'jane@acme.com' })).toEqual({
      admin_email: '"admin_email" is not an intake field',
    });
  });

  it('reports only the first problem per field, so each modal field shows one message', () => {
    const result = parseIntake({ ...modalSubmission, slug: '-A-' }, plans, today);
    expect(result).toEqual({
      ok: false,
      errors: [{ field: 'slug', message: 'Slug may only contain lowercase letters, digits and hyphens' }],
    });
  });
});

describe('an AE mistypes the slug and gets told how to fix it', () => {
  const slugError = (slug: string) => errorsFor({ ...modalSubmission, slug }).slug;

  it.each([
    ['ac', 'Slug must be at least 3 characters'],
    ['a'.repeat(31), 'Slug must be at most 30 characters'],
    ['Acme_Corp', 'Slug may only contain lowercase letters, digits and hyphens'],
    ['acme.corp', 'Slug may only contain lowercase letters, digits and hyphens'],
    ['-acme', 'Slug may not start or end with a hyphen'],
    ['acme-', 'Slug may not start or end with a hyphen'],
    ['acme--corp', 'Slug may not contain two hyphens in a row'],
    ['admin', '"admin" is reserved for our own hostnames; choose another slug, e.g. "admin-co"'],
    ['staging', '"staging" is reserved for our own hostnames; choose another slug, e.g. "staging-co"'],
  ])('%s → %s', (slug, message) => {
    expect(slugError(slug)).toBe(message);
  });

  it('accepts slugs at both length limits, with digits and single hyphens', () => {
    expect(slugSchema.parse('abc')).toBe('abc');
    expect(slugSchema.parse('a'.repeat(30))).toBe('a'.repeat(30));
    expect(slugSchema.parse(' 3m-health-2 ')).toBe('3m-health-2');
  });

  it('keeps "demo" available, since prospects often ask for exactly that', () => {
    expect(RESERVED_SLUGS.has('demo')).toBe(false);
    expect(slugSchema.parse('demo')).toBe('demo');
  });

  it('reserves the hostnames we run ourselves', () => {
    for (const slug of [
      'www',
      'api',
      'app',
      'mail',
      'status',
      'support',
      'help',
      'billing',
      'login',
      'auth',
      'static',
      'cdn',
      'internal',
      'staging',
      'prod',
      'dev',
      'test',
    ]) {
      expect(RESERVED_SLUGS.has(slug), slug).toBe(true);
    }
  });
});

describe('the modal proposes a slug from the company name', () => {
  it.each([
    ['Acme Corp, Inc.', 'acme-corp'],
    ['Globex LLC', 'globex'],
    ['Zürich Versicherung AG', 'zurich-versicherung'],
    ['Société Générale SA', 'societe-generale'],
    ['Müller & Söhne GmbH', 'muller-sohne'],
    ['  Initech   Ltd. ', 'initech'],
    ['The Very Long Company Name Of Everything Worldwide', 'the-very-long-company-name-of'],
    ['X', 'x-co'],
    ['Status Inc.', 'status-co'],
    ['Straße & Søn Ærø', 'strasse-son-aero'],
    ['Rocket 🚀 Labs', 'rocket-labs'],
  ])('%s → %s', (companyName, slug) => {
    expect(suggestSlug(companyName)).toBe(slug);
  });

  it('never proposes a slug the form would then reject', () => {
    for (const name of ['A-', 'Ab', 'API', 'Foo -- Bar', '9 Lives', `${'x'.repeat(29)} yz`]) {
      expect(slugSchema.safeParse(suggestSlug(name)).success, `${name} → ${suggestSlug(name)}`).toBe(true);
    }
  });

  it.each(['株式会社', 'Ωmega', 'Ωμέγα Holdings', '---', 'ООО Ромашка'])(
    'proposes nothing for %s rather than invent a slug or drop letters',
    (companyName) => {
      expect(suggestSlug(companyName)).toBeUndefined();
    },
  );

  it('asks for a slug by name when none was given and none can be suggested', () => {
    const { slug: _left, ...noSlug } = modalSubmission;
    expect(errorsFor({ ...noSlug, companyName: '株式会社' })).toEqual({
      slug: 'No slug can be suggested from "株式会社" (a hostname needs Latin letters or digits); choose a slug of lowercase letters, digits and hyphens',
    });
    expect(errorsFor(noSlug)).toEqual({ slug: 'Enter a slug, e.g. acme-corp' });
  });
});

describe('an AE picks the deal terms', () => {
  it('names a plan that does not exist and sees the ones that do', () => {
    expect(errorsFor({ ...modalSubmission, plan: 'premium' })).toEqual({
      plan: 'Unknown plan "premium"; choose one of: starter, growth, enterprise',
    });
  });

  it('asks for EU data on a plan sold with US data only, and is told where that plan keeps data', () => {
    const usOnly = { ...plans, plans: { ...plans.plans, starter: { ...planNamed('starter'), dataResidencies: ['us'] } } };
    const deal = { ...modalSubmission, plan: 'starter', contractValue: '9,000' };
    const refused = parseIntake({ ...deal, dataResidency: 'eu' }, usOnly, today);
    expect(refused.ok ? {} : Object.fromEntries(refused.errors.map((e) => [e.field, e.message]))).toEqual({
      dataResidency: 'the Starter plan keeps data in us only, not eu; choose one of those or another plan',
    });
    expect(parseIntake({ ...deal, dataResidency: 'us' }, usOnly, today).ok).toBe(true);
    // A plan without the list takes every residency.
    expect(parseIntake({ ...modalSubmission, dataResidency: 'eu' }, usOnly, today).ok).toBe(true);
    // And plans.yaml may only name residencies it knows.
    const typo = { ...plans, plans: { ...plans.plans, starter: { ...planNamed('starter'), dataResidencies: ['mars'] } } };
    expect(checkPlansCatalogue(typo)).toEqual([
      { path: ['plans', 'starter', 'dataResidencies', 0], message: 'unknown data residency "mars" (known: us, eu, uk, au)' },
    ]);
  });

  it('types the start date the American way and is shown the format', () => {
    expect(errorsFor({ ...modalSubmission, contractStartDate: '12/01/2026' })).toEqual({
      contractStartDate: 'Use the format YYYY-MM-DD for the contract start date, e.g. 2026-11-02',
    });
  });

  it('enters a date that does not exist on the calendar', () => {
    expect(errorsFor({ ...modalSubmission, contractStartDate: '2026-02-30' })).toEqual({
      contractStartDate: '2026-02-30 is not a real calendar date',
    });
    expect(errorsFor({ ...modalSubmission, contractStartDate: '2026-13-01' })).toEqual({
      contractStartDate: '2026-13-01 is not a real calendar date',
    });
  });

  it('backdates the contract by more than 30 days and is told the earliest allowed date', () => {
    expect(errorsFor({ ...modalSubmission, contractStartDate: '2026-10-25' })).toEqual({
      contractStartDate: 'Contract start date 2026-10-25 is more than 30 days in the past; the earliest allowed is 2026-10-26',
    });
  });

  it('is held to the rules of the day it submits on, even right after a submission the day before', () => {
    const lateOnTheDay = new Date(2026, 10, 25, 23, 59, 59);
    const justAfterMidnight = new Date(2026, 10, 26, 0, 0, 1);
    const backdated = { ...modalSubmission, contractStartDate: '2026-10-26' };
    expect(parseIntake(backdated, plans, new Date(2026, 10, 25, 9)).ok).toBe(true);
    expect(parseIntake(backdated, plans, lateOnTheDay).ok).toBe(true);
    // A day later the same date is 31 days back.
    const nextDay = parseIntake(backdated, plans, justAfterMidnight);
    expect(nextDay.ok ? [] : nextDay.errors).toEqual([
      { field: 'contractStartDate', message: 'Contract start date 2026-10-26 is more than 30 days in the past; the earliest allowed is 2026-10-27' },
    ]);
  });

  it('may backdate by exactly 30 days, or start the contract next year', () => {
    expect(accepted({ ...modalSubmission, contractStartDate: '2026-10-26' }).contractStartDate).toBe('2026-10-26');
    expect(accepted({ ...modalSubmission, contractStartDate: '2027-01-01' }).contractStartDate).toBe('2027-01-01');
  });

  it.each([
    ['lots', 'Enter the contract value as a number, e.g. 120000 or 120,000'],
    ['', 'Enter the contract value as a number, e.g. 120000 or 120,000'],
    ['$120k', 'Enter the contract value as a number, e.g. 120000 or 120,000'],
    [-5, 'Contract value cannot be negative'],
  ])('enters contract value %j and reads: %s', (contractValue, message) => {
    expect(errorsFor({ ...modalSubmission, contractValue })).toEqual({ contractValue: message });
  });

  it('chooses a data residency region we do not run in', () => {
    expect(errorsFor({ ...modalSubmission, dataResidency: 'mars' })).toEqual({
      dataResidency: 'Unknown data residency "mars"; choose one of: us, eu, uk, au',
    });
    expect(accepted({ ...modalSubmission, dataResidency: 'eu' }).dataResidency).toBe('eu');
  });

  it('overrides a feature flag that is not in the catalogue and sees the known flags', () => {
    expect(errorsFor({ ...modalSubmission, featureOverrides: { sso: true, sso_v2: true } })).toEqual({
      featureOverrides: 'Unknown feature flag "sso_v2"; known flags: sso, audit_log, api_access',
    });
    expect(errorsFor({ ...modalSubmission, featureOverrides: { sso: 'yes' } })).toEqual({
      featureOverrides: 'Feature "sso" must be on or off (or true or false), not "yes"',
    });
  });

  it('mistypes the customer admin email', () => {
    expect(errorsFor({ ...modalSubmission, adminEmail: 'jane@acme' })).toEqual({
      adminEmail: 'Enter a valid email address, e.g. jane@acme.com',
    });
    expect(accepted({ ...modalSubmission, adminEmail: ' jane@acme.com ' }).adminEmail).toBe('jane@acme.com');
  });

  it('pastes a CRM opportunity URL instead of its id', () => {
    expect(errorsFor({ ...modalSubmission, crmOpportunityId: 'https://acme.lightning.force.com/006Dn' })).toEqual({
      crmOpportunityId: 'CRM opportunity id may only contain letters, digits, "_" and "-", e.g. 006Dn00000AbCdE',
    });
    expect(errorsFor({ ...modalSubmission, crmOpportunityId: 'x'.repeat(65) })).toEqual({
      crmOpportunityId: 'The CRM opportunity id must be at most 64 characters',
    });
  });

  it('intakeSchema defaults "today" to now, so a contract starting today is always accepted', () => {
    const now = new Date();
    const isoToday = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
    expect(intakeSchema(plans).safeParse({ ...modalSubmission, contractStartDate: isoToday }).success).toBe(true);
  });
});

describe('a deal needs a human approval before provisioning', () => {
  const deal = { contractValue: 50_000, dataResidency: 'us' };

  it('a small starter deal in the US goes straight through', () => {
    expect(approvalReasons(planNamed('starter'), deal)).toEqual([]);
  });

  it('a growth deal at or above the threshold names both amounts', () => {
    expect(approvalReasons(planNamed('growth'), { ...deal, contractValue: 250_000 })).toEqual([
      'Contract value 250,000 is at or above the 100,000 approval threshold',
    ]);
    expect(approvalReasons(planNamed('growth'), { ...deal, contractValue: 100_000 })).toEqual([
      'Contract value 100,000 is at or above the 100,000 approval threshold',
    ]);
    expect(approvalReasons(planNamed('growth'), { ...deal, contractValue: 99_999 })).toEqual([]);
  });

  it('an enterprise deal in the EU lists every reason, dedicated database first', () => {
    expect(approvalReasons(planNamed('enterprise'), { ...deal, dataResidency: 'eu' })).toEqual([
      'Plan uses a dedicated database',
      'Custom data residency: eu',
    ]);
  });

  it('a plan can require approval for every deal', () => {
    const alwaysReviewed = { ...planNamed('starter'), approval: { always: true } };
    expect(approvalReasons(alwaysReviewed, deal)).toEqual(['Plan always requires approval']);
  });

  it('a plan without approval rules gets always=false by default', () => {
    expect(planNamed('starter').approval).toEqual({ always: false });
    expect(planNamed('starter').billing).toEqual({ priceRef: 'price_starter_monthly', trialDays: 14, meters: [] });
    expect(planNamed('growth').billing.trialDays).toBe(0);
  });
});

describe('the bot derives every technical parameter from the intake', () => {
  const settings = { baseDomain: 'tenants.example.com', secretPrefix: 'prod/tenants', sharedDatabaseName: 'tenants_shared' };

  it('an enterprise deal gets its own database, and the AE overrides switch features', () => {
    const intake = accepted({
      ...modalSubmission,
      plan: 'enterprise',
      dataResidency: 'uk',
      featureOverrides: { api_access: false },
    });
    expect(deriveTenant(intake, planNamed('enterprise'), settings)).toEqual({
      tenantId: 'tnt_acme-corp',
      slug: 'acme-corp',
      companyName: 'Acme Corp, Inc.',
      planId: 'enterprise',
      databaseName: 'tenant_acme_corp',
      isolation: 'dedicated',
      dnsName: 'acme-corp.tenants.example.com',
      tenantUrl: 'https://acme-corp.tenants.example.com',
      secretPath: 'prod/tenants/acme-corp',
      billingMetadata: { tenant_id: 'tnt_acme-corp', crm_opportunity_id: '006Dn00000AbCdE', plan: 'enterprise' },
      features: { sso: true, audit_log: true, api_access: false },
      seedVersion: '2026.11.0',
      approvalReasons: ['Plan uses a dedicated database', 'Custom data residency: uk'],
    });
  });

  it('a starter deal lives in the shared database and needs no approval', () => {
    const intake = accepted({ ...modalSubmission, plan: 'starter', slug: 'globex' });
    const tenant = deriveTenant(intake, planNamed('starter'), settings);
    expect(tenant.databaseName).toBe('tenants_shared');
    expect(tenant.isolation).toBe('shared');
    expect(tenant.approvalReasons).toEqual([]);
    expect(tenant.features).toEqual({ sso: false, audit_log: false, api_access: true });
  });

  it('effectiveFeatures layers overrides over the plan without touching the plan', () => {
    const growth = planNamed('growth');
    expect(effectiveFeatures(growth, { sso: false })).toEqual({ sso: false, audit_log: true, api_access: true });
    expect(growth.features.sso).toBe(true);
  });
});

describe('negotiated feature overrides, typed on the CLI or sent by the API', () => {
  const known = 'known flags: sso, audit_log, api_access';

  it.each([
    [['sso=disabled'], 'Feature "sso" must be on or off (or true or false), not "disabled"'],
    [['api_access=none'], 'Feature "api_access" must be on or off (or true or false), not "none"'],
    [['sso=yes'], 'Feature "sso" must be on or off (or true or false), not "yes"'],
    [['sso=1'], 'Feature "sso" must be on or off (or true or false), not "1"'],
    [['sso='], 'Feature "sso" must be on or off (or true or false), not ""'],
    [['sso'], 'Feature override "sso" has no setting; write sso=on or sso=off'],
    [['=on'], 'Feature override "=on" names no flag; write flag=on or flag=off, e.g. sso=on'],
    [['__proto__=on'], `Unknown feature flag "__proto__"; ${known}`],
    [['constructor=on'], `Unknown feature flag "constructor"; ${known}`],
    [['sso=on', 'sso=off'], 'Feature "sso" is set both on and off; set it once'],
  ])('--feature %j is refused: %s', (featureOverrides, message) => {
    expect(errorsFor({ ...modalSubmission, featureOverrides })).toEqual({ featureOverrides: message });
  });

  it('names every bad flag at once', () => {
    expect(errorsFor({ ...modalSubmission, featureOverrides: ['sso=disabled', 'teleport=on'] })).toEqual({
      featureOverrides: `Feature "sso" must be on or off (or true or false), not "disabled"; Unknown feature flag "teleport"; ${known}`,
    });
  });

  it('accepts on/off and true/false in any case, as text or booleans', () => {
    const cli = accepted({ ...modalSubmission, featureOverrides: ['sso=ON', 'audit_log=False', 'api_access = true', 'sso=on'] });
    expect(cli.featureOverrides).toEqual({ sso: true, audit_log: false, api_access: true });
    expect(accepted({ ...modalSubmission, featureOverrides: { sso: 'off', audit_log: true } }).featureOverrides).toEqual({
      sso: false,
      audit_log: true,
    });
    expect(accepted({ ...modalSubmission, featureOverrides: [] }).featureOverrides).toEqual({});
  });

  it('refuses "__proto__" in JSON from an API client instead of silently dropping it', () => {
    const fromJson: unknown = JSON.parse('{"__proto__": true, "sso": true}');
    expect(errorsFor({ ...modalSubmission, featureOverrides: fromJson })).toEqual({ featureOverrides: `Unknown feature flag "__proto__"; ${known}` });
  });
});

describe('the contract start date is one billing can still honour', () => {
  // From 25 November 2026, 730 days ahead is 24 November 2028 (2028 is a leap year).
  it('refuses a start so far ahead that Stripe could not schedule the first bill, naming the latest date', () => {
    expect(errorsFor({ ...modalSubmission, contractStartDate: '2999-01-01' })).toEqual({
      contractStartDate:
        'Contract start date 2999-01-01 puts the first bill more than 730 days ahead, further than Stripe can schedule it; the latest allowed is 2028-11-24',
    });
    expect(accepted({ ...modalSubmission, contractStartDate: '2028-11-24' }).contractStartDate).toBe('2028-11-24');
  });

  it("counts the plan's free trial: the first bill comes that many days after the start", () => {
    const starter = { ...modalSubmission, plan: 'starter' }; // 14-day trial
    expect(errorsFor({ ...starter, contractStartDate: '2028-11-24' })).toEqual({
      contractStartDate:
        'Contract start date 2028-11-24 with its 14-day trial puts the first bill more than 730 days ahead, further than Stripe can schedule it; the latest allowed is 2028-11-10',
    });
    expect(accepted({ ...starter, contractStartDate: '2028-11-10' }).contractStartDate).toBe('2028-11-10');
  });
});

describe('free text reaches terminals, e-mail subjects, Stripe and Slack only if it is plain', () => {
  it.each([
    ['companyName', 'Acme\u001b[2J Corp', 'The company name contains a control character (U+001B); type it again without it'],
    ['companyName', 'Acme \u202eproC', 'The company name contains an invisible text-direction control (U+202E); type it again without it'],
    ['companyName', '\u2066Acme\u2069 Corp', 'The company name contains an invisible text-direction control (U+2066); type it again without it'],
    ['companyName', 'Ac\u0085me', 'The company name contains a control character (U+0085); type it again without it'],
    ['companyName', 'Acme\nCorp', 'The company name contains a control character (U+000A); type it again without it'],
    ['companyName', '\u200b\u200b', 'The company name has no visible characters'],
    ['companyName', '\u200d \u2060', 'The company name has no visible characters'],
    [
      'requestedBy',
      'Sam\u001b]8;;https://evil.example\u0007',
      'The name of the person requesting this tenant contains a control character (U+001B); type it again without it',
    ],
    ['adminEmail', 'jane\u202e@acme.com', 'The admin email contains an invisible text-direction control (U+202E); type it again without it'],
    ['crmOpportunityId', '006\u001bX', 'The CRM opportunity id contains a control character (U+001B); type it again without it'],
  ])('%s %j is refused: %s', (field, value, message) => {
    expect(errorsFor({ ...modalSubmission, [field]: value })).toEqual({ [field]: message });
  });

  it('still takes names in any script, with accents, emoji and joiners', () => {
    for (const companyName of ['株式会社ソニー', 'Ωmega Ltd', 'Zürich Versicherung', 'Rocket 🚀 Labs', 'Family 👨‍👩‍👧 Co']) {
      expect(accepted({ ...modalSubmission, companyName }).companyName).toBe(companyName);
    }
  });
});

describe('an e-mail address fits what mail servers accept (RFC 5321)', () => {
  it('refuses an address over 254 characters, or over 64 before the "@"', () => {
    expect(errorsFor({ ...modalSubmission, adminEmail: `jane@${'a'.repeat(250)}.com` })).toEqual({
      adminEmail: 'The admin email must be at most 254 characters',
    });
    expect(errorsFor({ ...modalSubmission, adminEmail: `${'j'.repeat(65)}@acme.com` })).toEqual({
      adminEmail: 'The part of the admin email before "@" must be at most 64 characters',
    });
    expect(accepted({ ...modalSubmission, adminEmail: `${'j'.repeat(64)}@acme.com` }).adminEmail).toBe(`${'j'.repeat(64)}@acme.com`);
  });
});

describe('the contract value is an amount of money, exact to the cent', () => {
  const misplaced = (typed: string) => `"${typed}" is not an amount: put thousands separators every three digits, e.g. 1,234,567.50`;
  const aboveMax = (shown: string) => `Contract value ${shown} is above the maximum of 1,000,000,000,000`;

  it.each([
    ['1,2,3', misplaced('1,2,3')],
    ['12,34', misplaced('12,34')],
    ['1,234,56', misplaced('1,234,56')],
    ['1,234 567', misplaced('1,234 567')],
    ['10.505', 'Contract value 10.505 has more than 2 decimal places; give it to the cent'],
    ['1,000,000,000,000.01', aboveMax('1,000,000,000,000.01')],
    ['99999999999999999999', aboveMax('99999999999999999999')],
    [1e21, aboveMax('1e+21')],
    [Number.MAX_SAFE_INTEGER + 2, aboveMax('9007199254740992')],
    [Number.POSITIVE_INFINITY, aboveMax('Infinity')],
    [Number.NaN, 'Enter the contract value as a number, e.g. 120000 or 120,000'],
    [0.001, 'Contract value 0.001 has more than 2 decimal places; give it to the cent'],
    ['-5', 'Contract value cannot be negative'],
    ['1e5', 'Enter the contract value as a number, e.g. 120000 or 120,000'],
    [true, 'Enter the contract value as a number, e.g. 120000 or 120,000'],
  ])('%s is refused: %s', (contractValue, message) => {
    expect(errorsFor({ ...modalSubmission, contractValue })).toEqual({ contractValue: message });
  });

  it.each([
    ['120,000', 120_000],
    ['1,234,567.50', 1_234_567.5],
    ['1 234 567', 1_234_567],
    ['1000000000000', 1_000_000_000_000],
    [' 0 ', 0],
    ['007', 7],
    [19.99, 19.99],
    [1_000_000_000_000, 1_000_000_000_000],
  ])('%j is read as %d', (contractValue, amount) => {
    expect(accepted({ ...modalSubmission, contractValue }).contractValue).toBe(amount);
  });
});

describe('the data residency is chosen, or left out for the default', () => {
  it.each(['', '  ', null])('%j is asked for again instead of becoming "us"', (dataResidency) => {
    expect(errorsFor({ ...modalSubmission, dataResidency })).toEqual({ dataResidency: 'Choose a data residency: us, eu, uk, au' });
  });
});

describe('a body from outside names only real fields and real plans', () => {
  it('a plan named like a JavaScript property (constructor, toString, __proto__) is an unknown plan, not a crash', () => {
    for (const plan of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const result = parseIntake({ ...modalSubmission, plan }, plans, today);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors).toEqual([{ field: 'plan', message: expect.stringMatching(/^Unknown plan ".*"; choose one of: /) }]);
    }
  });

  it('a field with an empty name is refused as part of the intake, never as a nameless field', () => {
    const result = parseIntake({ ...modalSubmission, '': 'x' }, plans, today);
    expect(result).toEqual({ ok: false, errors: [{ field: 'intake', message: 'A field with an empty name is not an intake field' }] });
  });
});
