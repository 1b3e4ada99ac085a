import { afterEach, describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, stringify } from 'yaml';
import type { Document } from 'yaml';
import { z } from 'zod';
import { levels } from '../../src/domain/graph.ts';
import { PlansManifestSchema } from '../../src/domain/plan.ts';
import { deriveTenant, parseIntake } from '../../src/domain/intake.ts';
import { resolveTemplates, TemplateError, templateReferences, templateScope } from '../../src/domain/template.ts';
import { loadManifests, ManifestError, parseManifestText } from '../../src/manifests/load.ts';
import type { StepTypeCatalogue } from '../../src/manifests/load.ts';
import { SeedManifestSchema } from '../../src/manifests/seed.ts';
import { loadConfig } from '../../src/config.ts';
import { stepTypes as realStepTypes } from '../../src/steps/registry.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const realManifestsDir = path.join(repoRoot, 'manifests');
const realSeedDir = path.join(repoRoot, 'seed-manifests');

// Mirrors the engine's sandbox step: it simulates work so the demo runs end to end.
const sandboxInput = z.strictObject({
  latencyMs: z.int().nonnegative().default(0),
  failTransientTimes: z.int().nonnegative().default(0),
  failPermanently: z.boolean().default(false),
  hangMs: z.int().nonnegative().default(0),
  pollTimes: z.int().nonnegative().default(0),
  waitForInput: z.boolean().default(false),
  resource: z.string().min(1),
  summary: z.string().min(1),
});

const webhookInput = z.strictObject({
  url: z.url(),
  method: z.enum(['POST', 'PUT']).default('POST'),
  body: z.record(z.string(), z.unknown()).default({}),
});

const stepTypes: StepTypeCatalogue = new Map([
  ['sandbox', { input: sandboxInput }],
  ['webhook', { input: webhookInput }],
]);

const realFile = (dir: string, name: string) => readFileSync(path.join(dir, name), 'utf8');

const workspaces: string[] = [];
afterEach(() => {
  for (const dir of workspaces.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type FileContent = string | Uint8Array;
type Files = { plans?: FileContent; pipeline?: FileContent; seeds?: Record<string, FileContent> };

/** A temp copy of the real manifests with some files replaced, as a platform engineer would edit them. */
function workspace(files: Files = {}) {
  const root = mkdtempSync(path.join(tmpdir(), 'manifests-'));
  workspaces.push(root);
  const manifestsDir = path.join(root, 'manifests');
  const seedDir = path.join(root, 'seed-manifests');
  mkdirSync(manifestsDir);
  mkdirSync(seedDir);
  writeFileSync(path.join(manifestsDir, 'plans.yaml'), files.plans ?? realFile(realManifestsDir, 'plans.yaml'));
  writeFileSync(path.join(manifestsDir, 'pipeline.yaml'), files.pipeline ?? SMALL_PIPELINE);
  const seeds = files.seeds ?? Object.fromEntries(readdirSync(realSeedDir).map((name) => [name, realFile(realSeedDir, name)]));
  for (const [name, text] of Object.entries(seeds)) writeFileSync(path.join(seedDir, name), text);
  return { manifestsDir, seedDir, plansFile: path.join(manifestsDir, 'plans.yaml'), pipelineFile: path.join(manifestsDir, 'pipeline.yaml') };
}

function loadError(dirs: { manifestsDir: string; seedDir: string }, types: StepTypeCatalogue = stepTypes): ManifestError {
  try {
    loadManifests({ ...dirs, stepTypes: types });
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('expected loading to fail');
}

type StepSketch = { id: string; type?: string; needs?: string[]; criticality?: string; config?: Record<string, unknown> };

function sandboxStep(sketch: StepSketch): Record<string, unknown> {
  return { type: 'sandbox', config: { resource: sketch.id, summary: `${sketch.id} done` }, ...sketch };
}

const pipelineYaml = (...steps: StepSketch[]) => stringify({ version: 1, steps: steps.map(sandboxStep) });

// These tests are about plans and seeds: a small sandbox graph stands in for the real pipeline.
const SMALL_PIPELINE = pipelineYaml(
  { id: 'database', config: { resource: '${tenant.databaseName}', summary: 'Database ${tenant.databaseName} created' } },
  { id: 'seed_data', needs: ['database'], config: { resource: 'seed ${plan.seedVersion}', summary: 'Seed ${plan.seedVersion} loaded' } },
  { id: 'billing', config: { resource: '${plan.billing.priceRef}', summary: 'Subscription on ${plan.billing.priceRef}' } },
);

/** A real manifest with edits made through the YAML document, comments and all. */
function editedYaml(dir: string, name: string, edit: (doc: Document) => void): string {
  const doc = parseDocument(realFile(dir, name));
  edit(doc);
  return doc.toString();
}

const plansYamlWith = (edit: (doc: Document) => void) => editedYaml(realManifestsDir, 'plans.yaml', edit);

describe('the manifests in the repository', () => {
  const manifests = loadManifests({
    manifestsDir: realManifestsDir,
    seedDir: realSeedDir,
    stepTypes: realStepTypes,
    sampleTenantSettings: loadConfig({}).tenant,
  });

  it('load cleanly with three plans, the twelve-step demo pipeline and two seed versions', () => {
    expect(Object.keys(manifests.plans.plans)).toEqual(['starter', 'growth', 'enterprise']);
    expect(manifests.pipeline.steps.map((step) => step.id)).toEqual([
      'database',
      'seed_data',
      'dns',
      'storage',
      'certificate',
      'secrets',
      'sso',
      'feature_flags',
      'billing',
      'welcome_email',
      'slack_notice',
      'cs_record',
    ]);
    expect([...manifests.seeds.keys()]).toEqual(['2026.06.0', '2026.11.0']);
  });

  it('sell starter with a trial, growth with a deal-size gate and enterprise on its own database', () => {
    const { starter, growth, enterprise } = manifests.plans.plans;
    expect(starter?.billing).toEqual({ priceRef: 'price_starter_monthly', trialDays: 14, meters: [] });
    expect(starter?.approval).toEqual({ always: false });
    expect(growth?.approval).toEqual({ contractValueAtLeast: 100_000, always: false });
    expect(enterprise?.isolation).toBe('dedicated');
    expect(enterprise?.billing.meters).toEqual(['api_calls']);
    expect(enterprise?.approval.requireForDataResidency).toEqual(['eu', 'uk', 'au']);
    expect(Object.keys(manifests.plans.featureFlags)).toEqual([
      'sso',
      'audit_log',
      'api_access',
      'custom_roles',
      'data_export',
      'sandbox_env',
      'priority_support',
      'advanced_analytics',
    ]);
  });

  it('run the default pipeline in parallel branches, with notifications last and DNS polled until in sync', () => {
    expect(levels(manifests.pipeline.steps)).toEqual([
      ['database', 'dns', 'storage'],
      ['seed_data', 'certificate', 'secrets', 'feature_flags'],
      ['sso', 'billing'],
      ['welcome_email', 'slack_notice', 'cs_record'],
    ]);
    const notifications = manifests.pipeline.steps.filter((step) => step.criticality === 'notification').map((step) => step.id);
    expect(notifications).toEqual(['welcome_email', 'slack_notice', 'cs_record']);
    expect(manifests.pipeline.steps.find((step) => step.id === 'dns')?.pollTimeoutMs).toBe(600_000);
  });

  it('use a real integration for every step: nothing in the default pipeline is simulated', () => {
    expect(manifests.pipeline.steps.map((step) => step.type)).not.toContain('sandbox');
  });

  it('give every step of an enterprise deal a config its step type accepts, naming real tenant values', () => {
    const intake = parseIntake(
      {
        companyName: 'Acme Corp',
        slug: 'acme',
        adminEmail: 'jane@acme.com',
        plan: 'enterprise',
        contractStartDate: '2026-12-01',
        contractValue: '250,000',
        crmOpportunityId: '006Dn00000AbCdE',
        requestedBy: 'Sam Seller',
      },
      manifests.plans,
      new Date(2026, 10, 25),
    );
    if (!intake.ok) throw new Error(JSON.stringify(intake.errors));
    const plan = manifests.plans.plans.enterprise;
    if (!plan) throw new Error('no enterprise plan');
    const localSettings = loadConfig({}).tenant;
    const scope = templateScope(
      intake.intake,
      deriveTenant(intake.intake, plan, localSettings, manifests.plans.residencyRegions),
      plan,
      localSettings,
    );
    const configs = Object.fromEntries(
      manifests.pipeline.steps.map((step) => [step.id, realStepTypes.get(step.type)?.input.parse(resolveTemplates(step.config, scope))]),
    );
    expect(configs.database).toMatchObject({ database: 'tenant_acme', isolation: 'dedicated', tenantId: 'tnt_acme' });
    expect(configs.seed_data).toMatchObject({ seedVersion: '2026.11.0' });
    expect(configs.dns).toMatchObject({ name: 'acme.tenants.example.com', type: 'CNAME', values: ['edge.tenants.example.com'], ttl: 300 });
    expect(configs.sso).toMatchObject({ enabled: true, adminEmail: 'jane@acme.com', redirectUri: 'https://acme.tenants.example.com/auth/callback' });
    expect(configs.billing).toMatchObject({ priceRef: 'price_enterprise_annual', meters: ['api_calls'], contractStartDate: '2026-12-01' });
    expect(configs.welcome_email).toMatchObject({ to: 'jane@acme.com', tenantUrl: 'https://acme.tenants.example.com' });
    // The residency (us by default) places the bucket and the certificate; the plan decides the bucket's history.
    expect(configs.storage).toMatchObject({
      prefix: 'provisioner-local',
      slug: 'acme',
      region: 'us-east-1',
      storage: { versioning: true, noncurrentVersionDays: 365 },
    });
    expect(configs.certificate).toMatchObject({ domain: 'acme.tenants.example.com', region: 'us-east-1', tenantId: 'tnt_acme' });
    // The Slack webhook URL is a credential: the config names the endpoint, never the URL.
    expect(configs.slack_notice).toMatchObject({ format: 'slack', endpoint: 'slack_notice' });
    expect(JSON.stringify(configs)).not.toContain('12113');
  });

  it('seed 2026.11.0 with owner, admin, member and viewer roles, two workflows and reference data', () => {
    const seed = manifests.seeds.get('2026.11.0');
    expect(seed?.collections.roles.map((role) => role.key)).toEqual(['owner', 'admin', 'member', 'viewer']);
    expect(seed?.collections.workflowTemplates.map((template) => template.key)).toEqual(['employee_onboarding', 'employee_offboarding']);
    expect(seed?.collections.referenceData.map((data) => data.key)).toEqual(['industries', 'currencies']);
    expect(seed?.collections.referenceData[1]?.values).toContain('EUR');
  });
});

describe('a platform engineer edits pipeline.yaml', () => {
  it('mistypes a need and loading names the file, the path, the line and the steps it could mean', () => {
    const dirs = workspace({
      pipeline: [
        'version: 1',
        'steps:',
        '  - { id: database, type: sandbox, config: { resource: db, summary: Database created } }',
        '  - { id: dns, type: sandbox, config: { resource: dns, summary: DNS created } }',
        '  - { id: secrets, type: sandbox, needs: [database], config: { resource: s, summary: Secrets stored } }',
        '  - id: sso',
        '    type: sandbox',
        '    needs: [dnss]',
        '    config: { resource: sso, summary: SSO configured }',
        '',
      ].join('\n'),
    });
    const error = loadError(dirs);
    expect(error.file).toBe(dirs.pipelineFile);
    expect(error.problems).toEqual([
      { file: dirs.pipelineFile, path: 'steps[3].needs[0]', message: 'unknown step "dnss" (known: database, dns, secrets, sso)', line: 8 },
    ]);
    expect(error.message).toBe(`${dirs.pipelineFile}: steps[3].needs[0]: unknown step "dnss" (known: database, dns, secrets, sso) (line 8)`);
  });

  it('adds a step that needs itself and another pair that need each other; loading names both', () => {
    const dirs = workspace({
      pipeline: pipelineYaml({ id: 'database', needs: ['database'] }, { id: 'dns', needs: ['secrets'] }, { id: 'secrets', needs: ['dns'] }),
    });
    expect(loadError(dirs).problems.map(({ path: at, message }) => `${at}: ${message}`)).toEqual([
      'steps[0].needs[0]: step "database" needs itself; remove "database" from its needs',
      'steps[2].needs[0]: cycle: dns → secrets → dns (each step needs the next; break one of these needs)',
    ]);
  });

  it('copies a step without renaming it', () => {
    const dirs = workspace({ pipeline: pipelineYaml({ id: 'database' }, { id: 'database' }) });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'steps[1].id: duplicate step id "database" (first used by steps[0])',
    ]);
  });

  it('makes billing wait on the welcome email, a notification that never blocks', () => {
    const dirs = workspace({
      pipeline: pipelineYaml({ id: 'welcome_email', criticality: 'notification' }, { id: 'billing', needs: ['welcome_email'] }),
    });
    expect(loadError(dirs).problems.map((problem) => problem.path)).toEqual(['steps[1].needs[0]']);
    expect(loadError(dirs).message).toContain('blocking step "billing" needs notification step "welcome_email"');
  });

  it('misspells a step type and sees the types the engine knows', () => {
    const dirs = workspace({ pipeline: pipelineYaml({ id: 'database' }, { id: 'hook', type: 'webhok' }) });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'steps[1].type: unknown step type "webhok" (known: sandbox, webhook)',
    ]);
  });

  it('misspells a field and sets zero attempts; both are reported with their lines', () => {
    const dirs = workspace({
      pipeline: ['version: 1', 'steps:', '  - id: database', '    type: sandbox', '    neeeds: [dns]', '    retry: { attempts: 0 }', ''].join('\n'),
    });
    expect(loadError(dirs).problems).toEqual([
      { file: dirs.pipelineFile, path: 'steps[0].retry.attempts', message: 'Too small: expected number to be >=1', line: 6 },
      { file: dirs.pipelineFile, path: 'steps[0].neeeds', message: 'unrecognized key "neeeds"; check its spelling and indentation', line: 5 },
    ]);
  });

  it('forgets the type of a step and is told it is missing', () => {
    const dirs = workspace({ pipeline: ['version: 1', 'steps:', '  - id: database', ''].join('\n') });
    expect(loadError(dirs).message).toBe(`${dirs.pipelineFile}: steps[0].type: missing; expected a string (line 3)`);
  });

  it('breaks the YAML syntax and is shown the value, line and column', () => {
    const dirs = workspace({ pipeline: ['version: 1', 'steps:', '  - id: "database', '    type: sandbox', ''].join('\n') });
    expect(loadError(dirs).problems).toEqual([
      { file: dirs.pipelineFile, path: 'steps[0].id', message: 'Missing closing "quote', line: 5, column: 1 },
    ]);
    expect(loadError(dirs).message).toBe(`${dirs.pipelineFile}: steps[0].id: Missing closing "quote (line 5, column 1)`);
  });

  it('writes a placeholder that does not start with intake., tenant. or plan.', () => {
    const dirs = workspace({
      pipeline: pipelineYaml({ id: 'dns', config: { resource: '${tenantt.dnsName}', summary: 'for ${slug}' } }),
    });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'steps[0].config.resource: reference ${tenantt.dnsName} must start with intake., tenant., plan. or settings. (e.g. ${tenant.dnsName})',
      'steps[0].config.summary: reference ${slug} must start with intake., tenant., plan. or settings. (e.g. ${tenant.dnsName})',
    ]);
  });

  it('refers to a tenant value that does not exist and sees the ones that do, for every plan at once', () => {
    const dirs = workspace({ pipeline: pipelineYaml({ id: 'dns', config: { resource: '${tenant.dnsNam}', summary: 'DNS created' } }) });
    const [problem] = loadError(dirs).problems;
    expect(problem?.path).toBe('steps[0].config.resource');
    expect(problem?.message).toBe(
      'unknown reference ${tenant.dnsNam} (tenant has: tenantId, slug, companyName, planId, databaseName, isolation, dnsName, tenantUrl, secretPath, billingMetadata, features, seedVersion, approvalReasons, region) (plans starter, growth, enterprise)',
    );
  });

  it('uses a plan value only the growth plan has, and loading names each plan it breaks with what that plan has', () => {
    const dirs = workspace({
      pipeline: pipelineYaml({ id: 'deal_desk', config: { resource: 'desk', summary: 'Threshold ${plan.approval.contractValueAtLeast}' } }),
    });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'steps[0].config.summary: unknown reference ${plan.approval.contractValueAtLeast} (plan.approval has: always) (plan starter)',
      'steps[0].config.summary: unknown reference ${plan.approval.contractValueAtLeast} (plan.approval has: requireForDataResidency, always) (plan enterprise)',
    ]);
  });

  it('passes the seat limit to a licence server that takes at most 500 seats; only enterprise breaks it', () => {
    const types: StepTypeCatalogue = new Map([...stepTypes, ['licence', { input: z.strictObject({ seats: z.int().max(500) }) }]]);
    const dirs = workspace({
      pipeline: pipelineYaml({ id: 'database' }, { id: 'licences', type: 'licence', config: { seats: '${plan.limits.users}' } }),
    });
    expect(loadError(dirs, types).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'steps[1].config.seats: Too big: expected number to be <=500 (plan enterprise)',
    ]);
  });

  it('points a webhook at a bare slug instead of a URL, and forgets a sandbox summary', () => {
    const dirs = workspace({
      pipeline: pipelineYaml(
        { id: 'crm', type: 'webhook', config: { url: '${intake.slug}' } },
        { id: 'hook', type: 'webhook', config: { url: 'https://hooks.example/${intake.slug}', body: { seats: '${plan.limits.users}' } } },
        { id: 'dns', config: { resource: '${tenant.dnsName}' } },
      ),
    });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'steps[0].config.url: Invalid URL (plans starter, growth, enterprise)',
      'steps[2].config.summary: Invalid input: expected string, received undefined (plans starter, growth, enterprise)',
    ]);
  });
});

describe('a platform engineer edits plans.yaml', () => {
  it('switches on a flag that is not in the catalogue', () => {
    const dirs = workspace({ plans: plansYamlWith((doc) => doc.setIn(['plans', 'growth', 'features', 'sso_v2'], true)) });
    const error = loadError(dirs);
    expect(error.file).toBe(dirs.plansFile);
    expect(error.problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'plans.growth.features.sso_v2: unknown feature flag "sso_v2"; add it to featureFlags or use one of: sso, audit_log, api_access, custom_roles, data_export, sandbox_env, priority_support, advanced_analytics',
    ]);
  });

  it('names a new flag in CamelCase', () => {
    const dirs = workspace({ plans: plansYamlWith((doc) => doc.setIn(['featureFlags', 'betaReports'], { description: 'Beta reports' })) });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'featureFlags.betaReports: invalid key "betaReports": Feature flag names are lowercase snake_case, 2–49 characters, starting with a letter (e.g. audit_log)',
    ]);
  });

  it('offers a residency with no AWS region, maps one nobody offers, and misspells a region', () => {
    const dirs = workspace({
      plans: plansYamlWith((doc) => {
        doc.deleteIn(['residencyRegions', 'uk']);
        doc.setIn(['residencyRegions', 'jp'], 'ap-northeast-1');
        doc.setIn(['residencyRegions', 'au'], 'sydney');
      }),
    });
    // Every problem at once, each where it is.
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'residencyRegions.au: "sydney" is not an AWS region name like eu-west-1',
      'residencyRegions: data residency "uk" has no AWS region; add uk: <region>',
      'residencyRegions.jp: "jp" is not one of dataResidencies (us, eu, uk, au)',
    ]);
  });

  it('sets a default region that is not offered, and gates a plan on an unknown region', () => {
    const dirs = workspace({
      plans: plansYamlWith((doc) => {
        doc.set('defaultDataResidency', 'ca');
        doc.setIn(['plans', 'enterprise', 'approval', 'requireForDataResidency'], ['eu', 'jp']);
      }),
    });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'defaultDataResidency: "ca" is not one of dataResidencies (us, eu, uk, au)',
      'plans.enterprise.approval.requireForDataResidency[1]: unknown data residency "jp" (known: us, eu, uk, au)',
    ]);
  });

  it('pins a plan to a seed version that has not been written yet', () => {
    const dirs = workspace({ plans: plansYamlWith((doc) => doc.setIn(['plans', 'starter', 'seedVersion'], '2026.12.0')) });
    const [problem] = loadError(dirs).problems;
    expect(problem).toMatchObject({ file: dirs.plansFile, path: 'plans.starter.seedVersion' });
    expect(problem?.message).toBe(`unknown seed version "2026.12.0" (available in ${dirs.seedDir}: 2026.06.0, 2026.11.0)`);
  });

  it('sets a limit the catalogue does not have and forgets one it has; both are named with their lines', () => {
    const dirs = workspace({
      plans: plansYamlWith((doc) => {
        doc.setIn(['plans', 'growth', 'limits', 'seats'], 100);
        doc.deleteIn(['plans', 'starter', 'limits', 'api_calls_per_day']);
      }),
    });
    const problems = loadError(dirs).problems;
    expect(problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'plans.starter.limits: missing the limit "api_calls_per_day" (every plan sets each of tenantLimits)',
      'plans.growth.limits.seats: unknown limit "seats"; add it to tenantLimits or use one of: users, storage_gb, api_calls_per_day',
    ]);
    expect(problems.every((problem) => typeof problem.line === 'number')).toBe(true);
  });

  it('gives a plan zero users, a negative trial and an unknown isolation', () => {
    const dirs = workspace({
      plans: plansYamlWith((doc) => {
        doc.setIn(['plans', 'starter', 'limits', 'users'], 0);
        doc.setIn(['plans', 'starter', 'billing', 'trialDays'], -1);
        doc.setIn(['plans', 'starter', 'isolation'], 'private');
      }),
    });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'plans.starter.limits.users: Too small: expected number to be >0',
      'plans.starter.billing.trialDays: Too small: expected number to be >=0',
      'plans.starter.isolation: Invalid option: expected one of "shared"|"dedicated"',
    ]);
  });

  it('declares the same key twice; the YAML parser stops it with the key, line and column before any schema check', () => {
    const parsed = parseManifestText('manifests/plans.yaml', 'version: 1\nplans:\n  starter: {}\n  starter: {}\n', PlansManifestSchema);
    expect(parsed.value).toBeUndefined();
    expect(parsed.problems).toEqual([
      {
        file: 'manifests/plans.yaml',
        path: 'plans.starter',
        message: 'duplicate key "starter": it already appears earlier in this mapping; keep one of them',
        line: 4,
        column: 3,
      },
    ]);
  });

  it('saves an empty plans.yaml and is told so', () => {
    const dirs = workspace({ plans: '# plans moved to another file\n' });
    expect(loadError(dirs).message).toBe(`${dirs.plansFile}: file is empty`);
  });

  it('deletes plans.yaml by mistake and is told where it was expected', () => {
    const dirs = workspace();
    rmSync(dirs.plansFile);
    expect(loadError(dirs).message).toBe(`${dirs.plansFile}: file not found (expected at ${dirs.plansFile})`);
  });

  it('breaks plans and pipeline at once; every problem is reported, one per line, under the manifests folder', () => {
    const dirs = workspace({
      plans: plansYamlWith((doc) => doc.setIn(['plans', 'growth', 'features', 'sso_v2'], true)),
      pipeline: pipelineYaml({ id: 'database', type: 'webhok' }, { id: 'dns', needs: ['dnss'] }),
    });
    const error = loadError(dirs);
    expect(error.file).toBe(dirs.manifestsDir);
    expect(error.message.split('\n').map((line) => line.replace(/: .*/, ''))).toEqual([
      `${dirs.plansFile}`,
      `${dirs.pipelineFile}`,
      `${dirs.pipelineFile}`,
    ]);
    expect(error.problems.map((problem) => problem.path)).toEqual(['plans.growth.features.sso_v2', 'steps[0].type', 'steps[1].needs[0]']);
  });
});

/** The "billion laughs": each level aliases the one before nine times, so a few lines expand to 9^7 values. */
const BILLION_LAUGHS = [
  'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  ...['b', 'c', 'd', 'e', 'f', 'g'].map((level, index) => `${level}: &${level} [${Array(9).fill(`*${'abcdef'[index]}`).join(', ')}]`),
  '',
].join('\n');

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

describe('a manifest that is not a sound YAML mapping is refused with the file and the place, never a crash', () => {
  it('a "billion laughs" of nested aliases is stopped by the alias limit, naming the alias that nests them', () => {
    const dirs = workspace({ plans: BILLION_LAUGHS });
    const error = loadError(dirs);
    expect(error.file).toBe(dirs.plansFile);
    expect(error.problems).toEqual([
      {
        file: dirs.plansFile,
        path: 'c[0]',
        message: expect.stringMatching(/^aliases expand to too many values \(more than 100\)/),
        line: 3,
        column: 8,
      },
    ]);
  });

  it('a few anchors and aliases within the limit are fine', () => {
    const schema = z.strictObject({ defaults: z.strictObject({ seats: z.number() }), growth: z.strictObject({ seats: z.number() }) });
    const parsed = parseManifestText('limits.yaml', 'defaults: &defaults { seats: 5 }\ngrowth: *defaults\n', schema);
    expect(parsed.problems).toEqual([]);
    expect(parsed.value).toEqual({ defaults: { seats: 5 }, growth: { seats: 5 } });
  });

  it('an alias to an anchor that does not exist is named with its line', () => {
    const parsed = parseManifestText('manifests/plans.yaml', 'version: 1\nplans: *standard\n', PlansManifestSchema);
    expect(parsed.problems).toEqual([
      {
        file: 'manifests/plans.yaml',
        path: 'plans',
        message: 'Unresolved alias (the anchor must be set before the alias): standard',
        line: 2,
        column: 8,
      },
    ]);
  });

  it('a file saved as Latin-1 is refused as invalid UTF-8 at its byte offset, not read as U+FFFD', () => {
    // A real U+FFFD earlier in the file is valid UTF-8 and must not be mistaken for the bad byte.
    const before = 'version: 1 # \uFFFD is fine\nsteps:\n  - id: caf';
    const dirs = workspace({ pipeline: bytes(before, [0xe9], '\n    type: sandbox\n') });
    const offset = Buffer.byteLength(before);
    const error = loadError(dirs);
    expect(error.problems).toEqual([
      {
        file: dirs.pipelineFile,
        path: '',
        message: `is not valid UTF-8: byte 0xe9 at byte offset ${offset} does not belong there; save the file as UTF-8`,
        line: 3,
        column: '  - id: caf'.length + 1,
      },
    ]);
    expect(error.message).not.toContain('\uFFFD');
  });

  it('a NUL byte, or a file saved as UTF-16, is refused naming the byte offset', () => {
    const dirs = workspace({ pipeline: bytes('version: 1\nsteps: []', [0], '\n') });
    expect(loadError(dirs).message).toBe(
      `${dirs.pipelineFile}: contains a NUL byte at byte offset 20; manifests are UTF-8 text (is this a binary or UTF-16 file?) (line 2, column 10)`,
    );
    const utf16 = workspace({ plans: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('version: 1\n', 'utf16le')]) });
    expect(loadError(utf16).problems).toEqual([
      expect.objectContaining({ file: utf16.plansFile, message: expect.stringContaining('NUL byte at byte offset 3') }),
    ]);
  });

  it('a seed file with a broken byte is named like any other manifest', () => {
    const dirs = workspace({ seeds: { '2026.11.0.yaml': bytes('schemaVersion: 1\n', [0xc3, 0x28], '\n') } });
    expect(loadError(dirs).problems).toEqual([
      expect.objectContaining({
        file: path.join(dirs.seedDir, '2026.11.0.yaml'),
        line: 2,
        column: 1,
        message: expect.stringContaining('not valid UTF-8'),
      }),
    ]);
  });

  it('an enormous file is refused before it is parsed, saying what the limit is', () => {
    const dirs = workspace({ plans: `version: 1\n${'#'.repeat(1024 * 1024)}\n` });
    expect(loadError(dirs).message).toBe(`${dirs.plansFile}: the file is 1.0 MiB (1048588 bytes); a manifest may be at most 1 MiB`);
  });

  it('a list or a single value instead of a mapping is named for what it is', () => {
    const list = workspace({ plans: '- starter\n- growth\n' });
    expect(loadError(list).message).toBe(
      `${list.plansFile}: the file holds a list; a manifest is a mapping of keys to values (like "version: 1") (line 1, column 1)`,
    );
    const scalar = workspace({ pipeline: '\n"steps go here"\n' });
    expect(loadError(scalar).message).toBe(
      `${scalar.pipelineFile}: the file holds a single value; a manifest is a mapping of keys to values (like "version: 1") (line 2, column 1)`,
    );
  });

  it('two YAML documents in one file, and a tag the parser does not know, are each named with their place', () => {
    const twoDocs = workspace({ plans: 'version: 1\n---\nversion: 2\n' });
    expect(loadError(twoDocs).problems).toEqual([
      {
        file: twoDocs.plansFile,
        path: '',
        message: 'a manifest is one YAML document; remove the "---" line that starts a second one',
        line: 2,
        column: 1,
      },
    ]);
    const tagged = parseManifestText('manifests/plans.yaml', 'version: !!js/function "1"\n', PlansManifestSchema);
    expect(tagged.problems).toEqual([
      {
        file: 'manifests/plans.yaml',
        path: 'version',
        message: 'Unresolved tag: tag:yaml.org,2002:js/function; manifests hold plain YAML values, remove the tag',
        line: 1,
        column: 10,
      },
    ]);
  });

  it('absurdly deep nesting gives a short list of problems, not thousands', () => {
    const dirs = workspace({ pipeline: '['.repeat(200_000) });
    const { problems } = loadError(dirs);
    expect(problems.length).toBeLessThanOrEqual(11);
    expect(problems.some((problem) => problem.message.startsWith('nested too deeply'))).toBe(true);
    expect(problems.at(-1)?.message).toMatch(/^and \d+ more YAML problems$/);
  });

  it('a folder where plans.yaml should be is named as such', () => {
    const dirs = workspace();
    rmSync(dirs.plansFile);
    mkdirSync(dirs.plansFile);
    expect(loadError(dirs).message).toBe(`${dirs.plansFile}: is a directory, not a file`);
  });
});

describe('a platform engineer releases a seed manifest', () => {
  const seedYamlWith = (edit: (doc: Document) => void) => editedYaml(realSeedDir, '2026.11.0.yaml', edit);

  it('gives a role a permission that no permission set defines, and repeats a role key', () => {
    const seedFile = (dir: string) => path.join(dir, '2026.11.0.yaml');
    const dirs = workspace({
      seeds: {
        '2026.11.0.yaml': seedYamlWith((doc) => {
          doc.addIn(['collections', 'roles', 3, 'permissions'], 'records:archive');
          doc.addIn(['collections', 'roles'], { key: 'viewer', name: 'Read only', permissions: [] });
        }),
      },
    });
    const error = loadError(dirs);
    expect(error.file).toBe(seedFile(dirs.seedDir));
    expect(error.problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'collections.roles[4].key: duplicate key "viewer" (first used by roles[3])',
      'collections.roles[3].permissions[2]: role "viewer" grants "records:archive", which no permission set defines; add it to a permission set or fix the spelling',
    ]);
  });

  it('copies a seed file to a new name but forgets to bump its version', () => {
    const dirs = workspace({
      seeds: { '2026.11.0.yaml': realFile(realSeedDir, '2026.11.0.yaml'), '2026.12.0.yaml': realFile(realSeedDir, '2026.11.0.yaml') },
    });
    expect(loadError(dirs).message).toBe(
      `${path.join(dirs.seedDir, '2026.12.0.yaml')}: version: version "2026.11.0" does not match the file name; name the file 2026.11.0.yaml (line 7)`,
    );
  });

  it('breaks the seed file a plan pins; the seed is reported, the plan is not blamed as well', () => {
    const dirs = workspace({ seeds: { '2026.11.0.yaml': seedYamlWith((doc) => doc.set('schemaVersion', 2)) } });
    expect(loadError(dirs).problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual(['schemaVersion: Invalid input: expected 1']);
  });

  it('keys are unique per collection, so a role may share its key with a permission set', () => {
    const dirs = workspace({
      seeds: {
        '2026.11.0.yaml': seedYamlWith((doc) =>
          doc.addIn(['collections', 'roles'], { key: 'audit', name: 'Auditor', permissions: ['audit_log:read'] }),
        ),
      },
    });
    const seed = loadManifests({ ...dirs, stepTypes }).seeds.get('2026.11.0');
    expect(seed?.collections.roles.map((role) => role.key)).toEqual(['owner', 'admin', 'member', 'viewer', 'audit']);
    expect(seed?.collections.permissionSets.map((set) => set.key)).toContain('audit');
  });

  it('SeedManifestSchema alone rejects an empty permission set and a misspelt collection', () => {
    const result = SeedManifestSchema.safeParse({
      schemaVersion: 1,
      version: '2027.01.0',
      description: 'x',
      collections: { roles: [], permissionSets: [{ key: 'empty', name: 'Empty', permissions: [] }], workflowTemplates: [], referenceDatas: [] },
    });
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.code])).toEqual([
      ['collections.permissionSets.0.permissions', 'too_small'],
      ['collections.referenceData', 'invalid_type'],
      ['collections', 'unrecognized_keys'],
    ]);
  });
});

describe('step configs use ${…} placeholders for per-tenant values', () => {
  const scope = {
    intake: { slug: 'acme', companyName: 'Acme Corp' },
    tenant: { dnsName: 'acme.tenants.example.com', features: { sso: true } },
    plan: { id: 'growth', limits: { users: 100 }, billing: { meters: ['api_calls', 'seats'] }, approval: { always: false } },
  };

  it('a value that is exactly one placeholder keeps its type', () => {
    expect(resolveTemplates({ seats: '${plan.limits.users}', sso: '${tenant.features}', strict: '${plan.approval.always}' }, scope)).toEqual({
      seats: 100,
      sso: { sso: true },
      strict: false,
    });
  });

  it('placeholders inside longer text become text, in nested objects and lists too', () => {
    expect(
      resolveTemplates(
        {
          url: 'https://hooks.example/${intake.slug}',
          headers: [{ value: '${plan.limits.users} seats for ${intake.companyName}' }],
          meter: 'meter ${plan.billing.meters.1}',
          retries: 3,
        },
        scope,
      ),
    ).toEqual({ url: 'https://hooks.example/acme', headers: [{ value: '100 seats for Acme Corp' }], meter: 'meter seats', retries: 3 });
  });

  it('a missing value throws a TemplateError naming the reference, where it is and what exists', () => {
    const thrown = (() => {
      try {
        resolveTemplates({ seats: '${plan.limits.user}' }, scope);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(TemplateError);
    expect(thrown).toMatchObject({
      path: ['config', 'seats'],
      reference: 'plan.limits.user',
      message: 'unknown reference ${plan.limits.user} at config.seats (plan.limits has: users)',
    });
  });

  it('points into lists and refuses to read through prototypes or malformed placeholders', () => {
    expect(() => resolveTemplates({ headers: ['ok', '${intake.slg}'] }, scope)).toThrow('unknown reference ${intake.slg} at config.headers[1]');
    expect(() => resolveTemplates('${intake.constructor}', scope)).toThrow('unknown reference ${intake.constructor} at config');
    expect(() => resolveTemplates('${ tenant.dnsName }', scope)).toThrow(
      'malformed reference ${ tenant.dnsName } at config: write ${root.path}, e.g. ${tenant.dnsName}',
    );
  });

  it('templateReferences lists every placeholder with its path, for checks at load time', () => {
    expect(
      templateReferences({ url: 'https://x/${intake.slug}/${tenant.dnsName}', body: [{ n: '${plan.limits.users}' }], plain: 'no refs' }),
    ).toEqual([
      { path: ['config', 'url'], reference: 'intake.slug' },
      { path: ['config', 'url'], reference: 'tenant.dnsName' },
      { path: ['config', 'body', 0, 'n'], reference: 'plan.limits.users' },
    ]);
  });

  it('pins a plan to a seed that no longer matches the current schema, and startup names the record and field', () => {
    const outdated = readFileSync(path.join(repoRoot, 'test/fixtures/seed-outdated/2025.09.0.yaml'), 'utf8');
    const seeds = { ...Object.fromEntries(readdirSync(realSeedDir).map((name) => [name, realFile(realSeedDir, name)])), '2025.09.0.yaml': outdated };
    const dirs = workspace({
      plans: plansYamlWith((doc) => doc.setIn(['plans', 'growth', 'seedVersion'], '2025.09.0')),
      pipeline: realFile(realManifestsDir, 'pipeline.yaml'),
      seeds,
    });
    // (This loader has no deployment settings, so the ${settings.…} references are reported too; only the seed matters here.)
    const messages = loadError(dirs, realStepTypes)
      .problems.map((problem) => problem.message)
      .filter((m) => m.startsWith('Seed'));
    expect(messages).toEqual([
      expect.stringMatching(
        /^Seed 2025\.09\.0 no longer matches the current schema: roles "viewer" field "permissions\[1\]" has "reports\.view".* \(plan growth\)$/,
      ),
    ]);
  });
});
