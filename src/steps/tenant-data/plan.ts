/**
 * What provisioning a tenant's data means, computed without a database: the
 * collections to create, the documents each seeded collection receives, and
 * every way those documents fail the current schema. The steps act on it;
 * a CLI dry run can print it.
 */
import type { SeedManifest } from '../../manifests/seed.ts';
import { validateAgainstSchema, type JsonSchema } from './json-schema.ts';
import { SEEDED_COLLECTIONS, TENANT_COLLECTIONS, tenantLayout, type Isolation, type SeededCollection, type TenantCollection } from './layout.ts';
import { CURRENT_SCHEMA } from './schema.ts';

/** A seeded record as stored: flat text fields and lists of text (no nested arrays, no dotted keys). */
export type SeedDocument = { _id: string; key: string; [field: string]: string | string[] };

export type CollectionPlan = {
  collection: TenantCollection;
  /** Physical name in the database (prefixed for shared tenants). */
  name: string;
  schema: JsonSchema;
  /** Seeded collections are looked up by key, so a unique index keeps keys unique for later writers too. */
  uniqueKey: boolean;
};

export type InsertPlan = { collection: SeededCollection; name: string; documents: SeedDocument[] };

export type SeedProblem = { collection: SeededCollection; recordKey: string; field: string; problem: string; why?: string };

export type TenantDataPlan = {
  dbName: string;
  isolation: Isolation;
  collections: CollectionPlan[];
  inserts: InsertPlan[];
  problems: SeedProblem[];
};

export type TenantDataRequest = { tenantId: string; database: string; isolation: Isolation; seed?: SeedManifest };

export function planTenantData({ tenantId, database, isolation, seed }: TenantDataRequest): TenantDataPlan {
  const layout = tenantLayout({ tenantId, database, isolation });
  const collections = TENANT_COLLECTIONS.map((collection) => ({
    collection,
    name: layout.collections[collection],
    schema: CURRENT_SCHEMA[collection],
    uniqueKey: collection !== 'tenant_config',
  }));
  if (seed === undefined) return { dbName: layout.dbName, isolation, collections, inserts: [], problems: [] };
  const documents = seedDocuments(seed, tenantId);
  const inserts = SEEDED_COLLECTIONS.map((collection) => ({ collection, name: layout.collections[collection], documents: documents[collection] }));
  const problems = inserts.flatMap(({ collection, documents: docs }) => docs.flatMap((doc) => documentProblems(collection, doc)));
  return { dbName: layout.dbName, isolation, collections, inserts, problems };
}

/** The documents a seed puts in each collection, with ids `<collection>:<key>` so re-runs find them. */
export function seedDocuments(seed: SeedManifest, tenantId: string): Record<SeededCollection, SeedDocument[]> {
  const stamp = (collection: SeededCollection, key: string) => ({ _id: `${collection}:${key}`, key, tenantId, seedVersion: seed.version });
  const { roles, permissionSets, workflowTemplates, referenceData } = seed.collections;
  return {
    roles: roles.map((r) => ({ ...stamp('roles', r.key), name: r.name, permissions: r.permissions })),
    permission_sets: permissionSets.map((p) => ({ ...stamp('permission_sets', p.key), name: p.name, permissions: p.permissions })),
    workflow_templates: workflowTemplates.map((w) => ({ ...stamp('workflow_templates', w.key), name: w.name, steps: w.steps })),
    reference_data: referenceData.map((d) => ({ ...stamp('reference_data', d.key), kind: d.kind, values: d.values })),
  };
}

function documentProblems(collection: SeededCollection, doc: SeedDocument): SeedProblem[] {
  return validateAgainstSchema(doc, CURRENT_SCHEMA[collection]).map((violation) => ({
    collection,
    recordKey: doc.key,
    ...violation,
  }));
}

/** `roles "viewer" is missing "description" (why…)`: a sentence a person can act on. */
export function describeProblem(problem: SeedProblem): string {
  const why = problem.why === undefined ? '' : ` (${problem.why})`;
  return `${problem.collection} "${problem.recordKey}" ${problem.problem}${why}`;
}

const PROBLEMS_SHOWN = 3;

/** The message of the PermanentError that stops an outdated seed before any write. */
export function outdatedSeedMessage(seedVersion: string, problems: readonly SeedProblem[]): string {
  const shown = problems.slice(0, PROBLEMS_SHOWN).map(describeProblem).join('; ');
  const more = problems.length > PROBLEMS_SHOWN ? `; and ${problems.length - PROBLEMS_SHOWN} more` : '';
  return `Seed ${seedVersion} no longer matches the current schema: ${shown}${more}. Publish a new seed version and point plans.yaml at it.`;
}
