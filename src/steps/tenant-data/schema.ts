/**
 * The documents the application reads today, one JSON schema per tenant
 * collection. On MongoDB each is the collection's `$jsonSchema` validator;
 * the seed step also checks every document against it before writing, so an
 * old seed the product has outgrown fails before touching a tenant.
 *
 * Change these when the application changes what it reads, and say in the
 * rule's description since which release it holds: that text reaches the
 * person who has to publish a corrected seed.
 *
 * Stricter than the seed manifest loader on purpose: the loader accepts any
 * lowercase permission text ("records.read"), the application only
 * understands "resource:action" since the 2026.06.0 release.
 */
import type { JsonSchema } from './json-schema.ts';
import type { SeededCollection, TenantCollection } from './layout.ts';

const KEY_PATTERN = '^[a-z][a-z0-9_]{0,63}$';

const key: JsonSchema = {
  bsonType: 'string',
  pattern: KEY_PATTERN,
  description: 'keys are lowercase snake_case, e.g. billing_admin: the application looks records up by key',
};

const name: JsonSchema = {
  bsonType: 'string',
  minLength: 1,
  maxLength: 80,
  description: 'the admin console shows every record by its name, in at most 80 characters',
};

const tenantId: JsonSchema = { bsonType: 'string', pattern: '^[a-z][a-z0-9_-]{0,63}$' };

const seedVersion: JsonSchema = {
  bsonType: 'string',
  pattern: '^[0-9]{4}[.][0-9]{1,2}[.][0-9]+$',
  description: 'every seeded record names the seed release it came from',
};

const permissions = (minItems: number): JsonSchema => ({
  bsonType: 'array',
  minItems,
  uniqueItems: true,
  description: 'a permission is listed once',
  items: {
    bsonType: 'string',
    pattern: '^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$',
    description:
      'permissions are written resource:action, e.g. records:read; the application stopped reading the older resource.action form in 2026.06.0',
  },
});

const textList = (what: string): JsonSchema => ({
  bsonType: 'array',
  minItems: 1,
  uniqueItems: true,
  description: `${what} are listed at least once and never twice`,
  items: { bsonType: 'string', minLength: 1, maxLength: 200 },
});

/** A seeded record: deterministic `_id` `<collection>:<key>`, so a re-run cannot duplicate it. */
function seededRecord(collection: SeededCollection, fields: Readonly<Record<string, JsonSchema>>): JsonSchema {
  return {
    bsonType: 'object',
    required: ['_id', 'key', 'tenantId', 'seedVersion', ...Object.keys(fields)],
    additionalProperties: false,
    properties: {
      _id: { bsonType: 'string', pattern: `^${collection}:[a-z][a-z0-9_]{0,63}$` },
      key,
      tenantId,
      seedVersion,
      ...fields,
    },
  };
}

export const CURRENT_SCHEMA: Readonly<Record<TenantCollection, JsonSchema>> = {
  roles: seededRecord('roles', { name, permissions: permissions(0) }),
  permission_sets: seededRecord('permission_sets', { name, permissions: permissions(1) }),
  workflow_templates: seededRecord('workflow_templates', { name, steps: textList('workflow steps') }),
  reference_data: seededRecord('reference_data', {
    kind: { bsonType: 'string', pattern: KEY_PATTERN, description: 'a reference data kind is lowercase snake_case, e.g. iso4217_currency' },
    values: textList('reference values'),
  }),
  // Written by the feature-flags step: `{ _id: tenantId, features: {...} }`. Left open so that
  // step may add bookkeeping fields without a schema release here.
  tenant_config: {
    bsonType: 'object',
    required: ['_id'],
    properties: { _id: tenantId, features: { bsonType: 'object' } },
  },
};
