// Step configs in pipeline.yaml refer to per-tenant values with `${root.path}`
// placeholders (e.g. "${tenant.dnsName}"), so one pipeline serves every tenant.
import type { DerivedTenant, Intake, TenantSettings } from './intake.ts';
import type { Plan } from './plan.ts';

export type TemplatePath = (string | number)[];

export class TemplateError extends Error {
  readonly path: TemplatePath;
  readonly reference: string;
  /** What is wrong, without the location (for callers that show the path themselves). */
  readonly detail: string;

  constructor(problem: string, path: TemplatePath, reference: string, hint = '') {
    super(`${problem} at ${formatPath(path)}${hint}`);
    this.name = 'TemplateError';
    this.path = path;
    this.reference = reference;
    this.detail = `${problem}${hint}`;
  }
}

/** What step configs may refer to; the engine builds it once per job. */
export type TemplateScope = {
  intake: Intake;
  tenant: DerivedTenant;
  plan: Plan & { id: string };
  settings: Readonly<Record<string, string | number>>;
};

export function templateScope(intake: Intake, tenant: DerivedTenant, plan: Plan, settings: TenantSettings): TemplateScope {
  return { intake, tenant, plan: { ...plan, id: intake.plan }, settings: settings.pipeline ?? {} };
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const WHOLE_PLACEHOLDER = /^\$\{([^}]*)\}$/;
const REFERENCE = /^[A-Za-z_]\w*(\.\w+)*$/;

/** Renders a path the way people read it in a manifest: config.headers[0].value */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('');
}

/** Every placeholder inside `value`, with where it sits (paths start at `basePath`). */
export function templateReferences(value: unknown, basePath: readonly (string | number)[] = ['config']): { path: TemplatePath; reference: string }[] {
  if (typeof value === 'string') {
    return [...value.matchAll(PLACEHOLDER)].map((match) => ({ path: [...basePath], reference: match[1] ?? '' }));
  }
  return childEntries(value).flatMap(([key, child]) => templateReferences(child, [...basePath, key]));
}

/**
 * Replaces placeholders in `value` with values from `scope`. A string that is exactly
 * one placeholder keeps the referenced value's type (so "${plan.limits.users}" stays a
 * number); placeholders inside longer strings are turned into text.
 * Paths in errors start at `basePath`, which defaults to the step's `config`.
 */
export function resolveTemplates(
  value: unknown,
  scope: Readonly<Record<string, unknown>>,
  basePath: readonly (string | number)[] = ['config'],
): unknown {
  if (typeof value === 'string') return resolveString(value, scope, basePath);
  if (Array.isArray(value)) return value.map((item: unknown, index) => resolveTemplates(item, scope, [...basePath, index]));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, resolveTemplates(child, scope, [...basePath, key])]));
  }
  return value;
}

function resolveString(text: string, scope: Readonly<Record<string, unknown>>, path: readonly (string | number)[]): unknown {
  const whole = WHOLE_PLACEHOLDER.exec(text);
  if (whole) return lookup(whole[1] ?? '', scope, path);
  return text.replace(PLACEHOLDER, (_match, reference: string) => stringify(lookup(reference, scope, path)));
}

function lookup(reference: string, scope: Readonly<Record<string, unknown>>, path: readonly (string | number)[]): unknown {
  if (!REFERENCE.test(reference)) {
    throw new TemplateError(`malformed reference \${${reference}}`, [...path], reference, ': write ${root.path}, e.g. ${tenant.dnsName}');
  }
  let current: unknown = scope;
  for (const [index, key] of reference.split('.').entries()) {
    const next = ownValue(current, key);
    if (next === undefined) throw unknownReference(reference, path, current, index);
    current = next;
  }
  return current;
}

function unknownReference(reference: string, path: readonly (string | number)[], parent: unknown, depth: number): TemplateError {
  const known = Object.keys(isPlainObject(parent) || Array.isArray(parent) ? parent : {});
  const parentName = reference.split('.').slice(0, depth).join('.') || 'the scope';
  const hint = known.length > 0 ? ` (${parentName} has: ${known.join(', ')})` : '';
  return new TemplateError(`unknown reference \${${reference}}`, [...path], reference, hint);
}

// Own properties only, so "${intake.constructor}" cannot reach into prototypes.
function ownValue(container: unknown, key: string): unknown {
  if (Array.isArray(container)) return /^\d+$/.test(key) ? container[Number(key)] : undefined;
  if (isPlainObject(container) && Object.hasOwn(container, key)) return container[key];
  return undefined;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isPlainObject(value) || Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

function childEntries(value: unknown): [string | number, unknown][] {
  if (Array.isArray(value)) return value.map((item: unknown, index): [number, unknown] => [index, item]);
  if (isPlainObject(value)) return Object.entries(value);
  return [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
