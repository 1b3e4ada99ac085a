// Loads and cross-checks the YAML manifests (plans, pipeline, seed data) at startup,
// so a typo in a manifest stops the bot with a precise message instead of failing
// a customer's provisioning halfway. Every problem is reported at once.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { isoDay } from '../domain/calendar.ts';
import type { z } from 'zod';
import { BillingFeaturesSchema, checkBillingFeatures, NO_BILLING_FEATURES, type BillingFeatures } from '../domain/billing-features.ts';
import { checkGraph, PipelineManifestSchema } from '../domain/graph.ts';
import type { PipelineManifest, PipelineStep } from '../domain/graph.ts';
import { deriveTenant } from '../domain/intake.ts';
import { isLifecycleKind, LIFECYCLE_KINDS, type LifecycleKind } from '../domain/job-kind.ts';
import { checkLifecycleManifest, LifecycleManifestSchema, sampleRequest, type LifecycleManifest } from '../domain/lifecycle.ts';
import type { Intake, TenantSettings } from '../domain/intake.ts';
import { planNamed, PlansManifestSchema } from '../domain/plan.ts';
import type { Plan, PlansManifest } from '../domain/plan.ts';
import { formatPath, resolveTemplates, TemplateError, templateReferences, templateScope } from '../domain/template.ts';
import { ManifestError, type ManifestProblem } from './problems.ts';
import { type ParsedManifest, parseManifestText, pathPart, readManifestText } from './read.ts';
import { checkSalesforceMap, SalesforceMapSchema, type SalesforceMap } from './salesforce.ts';
import { SeedManifestSchema } from './seed.ts';
import type { SeedManifest } from './seed.ts';

export { ManifestError, type ManifestProblem } from './problems.ts';
export { type ParsedManifest, parseManifestText } from './read.ts';

/** What the other manifests (and the deployment) hold, for checks a step config needs beyond its own schema. */
export type ManifestFacts = { seeds: ReadonlyMap<string, SeedManifest>; webhookEndpoints: ReadonlySet<string> | undefined };

export type StepTypeCatalogue = ReadonlyMap<string, { input: z.ZodType; crossCheck?: (parsedInput: unknown, facts: ManifestFacts) => string[] }>;

export type Manifests = {
  plans: PlansManifest;
  pipeline: PipelineManifest;
  /** The lifecycle pipelines (manifests/lifecycle/<kind>.yaml); a kind without one cannot be asked for. */
  lifecycle: ReadonlyMap<LifecycleKind, LifecycleManifest>;
  seeds: ReadonlyMap<string, SeedManifest>;
  /** Billing providers' features → our flags and limits (none when billing-features.yaml is absent). */
  billingFeatures: BillingFeatures;
  /** How Salesforce's Opportunity fields map onto the intake (salesforce.yaml); undefined when the file is absent. */
  salesforce: SalesforceMap | undefined;
};

export type LoadOptions = {
  manifestsDir: string;
  seedDir: string;
  stepTypes: StepTypeCatalogue;
  /** Settings used to derive the sample tenants that step configs are checked against. */
  sampleTenantSettings?: TenantSettings;
  /** The webhook endpoints the deployment configures; when given, a step naming another one is a startup error. */
  webhookEndpoints?: ReadonlySet<string>;
};

type ManifestPath = readonly (string | number)[];

const DEFAULT_SAMPLE_SETTINGS: TenantSettings = {
  baseDomain: 'tenants.example.com',
  secretPrefix: 'tenants',
  sharedDatabaseName: 'tenants_shared',
};

/** Reads plans.yaml, pipeline.yaml, the lifecycle pipelines and every seed manifest, and checks them against each other. */
export function loadManifests(opts: LoadOptions): Manifests {
  const plans = readManifest(path.join(opts.manifestsDir, 'plans.yaml'), PlansManifestSchema);
  const pipeline = readManifest(path.join(opts.manifestsDir, 'pipeline.yaml'), PipelineManifestSchema);
  const lifecycle = readLifecycle(path.join(opts.manifestsDir, 'lifecycle'));
  const seeds = readSeeds(opts.seedDir);
  const billing = readBillingFeatures(path.join(opts.manifestsDir, 'billing-features.yaml'), plans.value);
  const salesforce = readOptionalManifest(path.join(opts.manifestsDir, 'salesforce.yaml'), SalesforceMapSchema);
  const problems = [
    ...plans.problems,
    ...pipeline.problems,
    ...lifecycle.problems,
    ...seeds.problems,
    ...billing.problems,
    ...(salesforce?.problems ?? []),
  ];
  if (salesforce?.value && plans.value) {
    problems.push(...checkSalesforceMap(salesforce.value, plans.value).map(({ at, message }) => salesforce.problemAt(at, message)));
  }
  const settings = opts.sampleTenantSettings ?? DEFAULT_SAMPLE_SETTINGS;
  const facts = { seeds: seeds.manifests, webhookEndpoints: opts.webhookEndpoints };
  if (pipeline.value) {
    problems.push(...checkPipeline(pipeline.value, opts.stepTypes, pipeline.problemAt, TEMPLATE_ROOTS));
    if (plans.value) {
      problems.push(...checkStepConfigsPerPlan(pipeline.value, plans.value, opts.stepTypes, settings, facts, pipeline.problemAt, () => ({})));
    }
  }
  for (const [kind, parsed] of lifecycle.parsed) {
    problems.push(...checkPipeline(parsed.manifest, opts.stepTypes, parsed.problemAt, LIFECYCLE_TEMPLATE_ROOTS));
    problems.push(...checkLifecycleManifest(kind, parsed.manifest).map((p) => parsed.problemAt(p.path, p.message)));
    if (plans.value) {
      const request = (planId: string, plan: Plan) => ({ request: sampleRequest(kind, planId, plan) });
      problems.push(...checkStepConfigsPerPlan(parsed.manifest, plans.value, opts.stepTypes, settings, facts, parsed.problemAt, request));
    }
  }
  if (plans.value) problems.push(...checkSeedVersions(plans.value, seeds.knownVersions, plans.problemAt, opts.seedDir));
  if (problems.length > 0 || !plans.value || !pipeline.value) {
    throw new ManifestError(faultyFile(problems, opts.manifestsDir), groupByFile(problems));
  }
  const pipelines = new Map([...lifecycle.parsed].map(([kind, parsed]) => [kind, parsed.manifest]));
  return {
    plans: plans.value,
    pipeline: pipeline.value,
    lifecycle: pipelines,
    seeds: seeds.manifests,
    billingFeatures: billing.value ?? NO_BILLING_FEATURES,
    salesforce: salesforce?.value,
  };
}

type LifecycleLoad = {
  parsed: Map<LifecycleKind, { manifest: LifecycleManifest; problemAt: ParsedManifest<unknown>['problemAt'] }>;
  problems: ManifestProblem[];
};

/** Each lifecycle kind's pipeline, from a file named after the kind; a deployment without the folder has none. */
function readLifecycle(dir: string): LifecycleLoad {
  const load: LifecycleLoad = { parsed: new Map(), problems: [] };
  if (!existsSync(dir)) return load;
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.yaml')) continue;
    const kind = path.basename(name, '.yaml');
    const file = path.join(dir, name);
    if (!isLifecycleKind(kind)) {
      load.problems.push({
        file: displayName(file),
        path: '',
        message: `"${kind}" is not a lifecycle kind; name the file one of: ${LIFECYCLE_KINDS.join(', ')}`,
      });
      continue;
    }
    const parsed = readManifest(file, LifecycleManifestSchema);
    load.problems.push(...parsed.problems);
    if (parsed.value) load.parsed.set(kind, { manifest: parsed.value, problemAt: parsed.problemAt });
  }
  return load;
}

/** Optional: without it, subscriptions map onto plans only. With it, every flag and limit it names must be in plans.yaml. */
function readBillingFeatures(file: string, plans: PlansManifest | undefined): ParsedManifest<BillingFeatures> {
  if (!existsSync(file)) return { value: NO_BILLING_FEATURES, problems: [], problemAt: (at, message) => ({ file, path: formatPath(at), message }) };
  const parsed = readManifest(file, BillingFeaturesSchema);
  if (!parsed.value || !plans) return parsed;
  const catalogue = { flags: Object.keys(plans.featureFlags), limits: Object.keys(plans.tenantLimits) };
  const problems = checkBillingFeatures(parsed.value, catalogue).map((issue) => parsed.problemAt(issue.path, issue.message));
  return problems.length > 0 ? { ...parsed, value: undefined, problems } : parsed;
}

// Paths relative to the working directory are what people can click in a terminal.
function displayName(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function readManifest<S extends z.ZodType>(file: string, schema: S): ParsedManifest<z.output<S>> {
  const name = displayName(file);
  const read = readManifestText(file, name);
  if (read.problem) {
    const problemAt = (at: ManifestPath, message: string) => ({ file: name, path: formatPath(at), message });
    return { value: undefined, problems: [read.problem], problemAt };
  }
  return parseManifestText(name, read.text, schema);
}

/** A manifest a deployment may leave out: undefined when there is no such file. */
function readOptionalManifest<S extends z.ZodType>(file: string, schema: S): ParsedManifest<z.output<S>> | undefined {
  return existsSync(file) ? readManifest(file, schema) : undefined;
}

type SeedLoad = { manifests: Map<string, SeedManifest>; knownVersions: Set<string>; problems: ManifestProblem[] };

function readSeeds(seedDir: string): SeedLoad {
  const load: SeedLoad = { manifests: new Map(), knownVersions: new Set(), problems: [] };
  if (!existsSync(seedDir)) {
    load.problems.push({ file: displayName(seedDir), path: '', message: 'seed manifest directory not found' });
    return load;
  }
  let files: string[];
  try {
    files = readdirSync(seedDir)
      .filter((name) => name.endsWith('.yaml'))
      .sort();
  } catch (error) {
    load.problems.push({
      file: displayName(seedDir),
      path: '',
      message: `cannot list the seed manifests: ${error instanceof Error ? error.message : String(error)}`,
    });
    return load;
  }
  for (const name of files) addSeed(load, path.join(seedDir, name));
  return load;
}

function addSeed(load: SeedLoad, file: string): void {
  const expectedVersion = path.basename(file, '.yaml');
  // A broken seed file still counts as known, so plans pinning it are not reported twice.
  load.knownVersions.add(expectedVersion);
  const parsed = readManifest(file, SeedManifestSchema);
  load.problems.push(...parsed.problems);
  const seed = parsed.value;
  if (!seed) return;
  if (seed.version !== expectedVersion) {
    load.problems.push(parsed.problemAt(['version'], `version "${seed.version}" does not match the file name; name the file ${seed.version}.yaml`));
  } else {
    load.manifests.set(seed.version, seed);
  }
}

function checkSeedVersions(
  plans: PlansManifest,
  knownVersions: ReadonlySet<string>,
  problemAt: ParsedManifest<unknown>['problemAt'],
  seedDir: string,
): ManifestProblem[] {
  const available = knownVersions.size > 0 ? [...knownVersions].join(', ') : 'none';
  return Object.entries(plans.plans)
    .filter(([, plan]) => !knownVersions.has(plan.seedVersion))
    .map(([planId, plan]) =>
      problemAt(['plans', planId, 'seedVersion'], `unknown seed version "${plan.seedVersion}" (available in ${displayName(seedDir)}: ${available})`),
    );
}

const TEMPLATE_ROOTS: readonly string[] = ['intake', 'tenant', 'plan', 'settings'];
/** Lifecycle steps may also read what the job was asked to do. */
const LIFECYCLE_TEMPLATE_ROOTS: readonly string[] = [...TEMPLATE_ROOTS, 'request'];

function checkPipeline(
  pipeline: Pick<PipelineManifest, 'steps'>,
  stepTypes: StepTypeCatalogue,
  problemAt: ParsedManifest<unknown>['problemAt'],
  roots: readonly string[],
): ManifestProblem[] {
  const knownTypes = [...stepTypes.keys()].join(', ');
  const typeProblems = pipeline.steps.flatMap((step, index) =>
    stepTypes.has(step.type) ? [] : [problemAt(['steps', index, 'type'], `unknown step type "${step.type}" (known: ${knownTypes})`)],
  );
  const graphProblems = checkGraph(pipeline.steps).map((problem) => problemAt(problem.path, problem.message));
  const rootWords = roots.map((root) => `${root}.`).join(', ');
  const templateProblems = pipeline.steps.flatMap((step, index) =>
    badTemplateRoots(step, roots).map(({ path: at, reference }) =>
      problemAt(
        ['steps', index, ...at],
        `reference \${${reference}} must start with ${rootWords.replace(/, ([^,]*)$/, ' or $1')} (e.g. \${tenant.dnsName})`,
      ),
    ),
  );
  return [...typeProblems, ...graphProblems, ...templateProblems];
}

function badTemplateRoots(step: PipelineStep, roots: readonly string[]): { path: (string | number)[]; reference: string }[] {
  return templateReferences(step.config, ['config']).filter(({ reference }) => {
    const [root, ...rest] = reference.split('.');
    return !roots.includes(root ?? '') || rest.length === 0;
  });
}

/**
 * Resolves every step's config for a sample deal on each plan and validates it with
 * the step type's input schema, so a config that only breaks for one plan (say a
 * field that is missing there) is caught at startup, not when that plan is sold.
 */
function checkStepConfigsPerPlan(
  pipeline: Pick<PipelineManifest, 'steps'>,
  plans: PlansManifest,
  stepTypes: StepTypeCatalogue,
  settings: TenantSettings,
  facts: ManifestFacts,
  problemAt: ParsedManifest<unknown>['problemAt'],
  extraScope: (planId: string, plan: Plan) => Record<string, unknown>,
): ManifestProblem[] {
  const plansByProblem = new Map<string, { at: ManifestPath; message: string; planIds: string[] }>();
  for (const planId of Object.keys(plans.plans)) {
    for (const found of stepConfigProblems(pipeline, plans, planId, stepTypes, settings, facts, extraScope)) {
      const key = `${formatPath(found.at)}\u0000${found.message}`;
      const entry = plansByProblem.get(key) ?? { ...found, planIds: [] };
      entry.planIds.push(planId);
      plansByProblem.set(key, entry);
    }
  }
  return [...plansByProblem.values()].map(({ at, message, planIds }) =>
    problemAt(at, `${message} (${planIds.length === 1 ? 'plan' : 'plans'} ${planIds.join(', ')})`),
  );
}

function stepConfigProblems(
  pipeline: Pick<PipelineManifest, 'steps'>,
  plans: PlansManifest,
  planId: string,
  stepTypes: StepTypeCatalogue,
  settings: TenantSettings,
  facts: ManifestFacts,
  extraScope: (planId: string, plan: Plan) => Record<string, unknown>,
): { at: ManifestPath; message: string }[] {
  const plan = planNamed(plans, planId);
  if (!plan) return [];
  const intake = sampleIntake(plans, planId);
  const extra = extraScope(planId, plan);
  const scope = { ...templateScope(intake, deriveTenant(intake, plan, settings, plans.residencyRegions), plan, settings), ...extra };
  const roots = [...TEMPLATE_ROOTS, ...Object.keys(extra)];
  return pipeline.steps.flatMap((step, index) => {
    const stepType = stepTypes.get(step.type);
    if (!stepType || badTemplateRoots(step, roots).length > 0) return []; // already reported
    try {
      const config = resolveTemplates(step.config, scope, ['config']);
      const result = stepType.input.safeParse(config);
      if (result.success) return (stepType.crossCheck?.(result.data, facts) ?? []).map((message) => ({ at: ['steps', index, 'config'], message }));
      return result.error.issues.map((issue) => ({ at: ['steps', index, 'config', ...issue.path.map(pathPart)], message: issue.message }));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      const envName = error.reference.startsWith('settings.') ? settings.pipelineEnv?.[error.reference.slice('settings.'.length)] : undefined;
      return [{ at: ['steps', index, ...error.path], message: envName ? `unknown reference \${${error.reference}}: set ${envName}` : error.detail }];
    }
  });
}

/** A plausible deal on the given plan, used only to check step configs at load time. */
function sampleIntake(plans: PlansManifest, planId: string): Intake {
  return {
    companyName: 'Sample Company Ltd',
    slug: 'sample-co',
    adminEmail: 'admin@sample-co.example',
    plan: planId,
    contractStartDate: isoDay(new Date()),
    contractValue: 0,
    dataResidency: plans.defaultDataResidency,
    featureOverrides: {},
    crmOpportunityId: '006SAMPLE00000001',
    requestedBy: 'manifest check',
  };
}

function faultyFile(problems: readonly ManifestProblem[], manifestsDir: string): string {
  const files = new Set(problems.map((problem) => problem.file));
  const [only] = files;
  return files.size === 1 && only !== undefined ? only : displayName(manifestsDir);
}

function groupByFile(problems: readonly ManifestProblem[]): ManifestProblem[] {
  const order = [...new Set(problems.map((problem) => problem.file))];
  return [...problems].sort((a, b) => order.indexOf(a.file) - order.indexOf(b.file));
}
