/**
 * Where a tenant's data lives. A dedicated tenant owns a whole database and
 * its collections carry plain names; a shared tenant gets its own set of
 * collections inside the shared database, each name prefixed with the
 * tenant id: `<tenantId>__roles`.
 *
 * Why `<tenantId>__<collection>`:
 * - a tenant id is `tnt_<slug>` and a slug never holds "_", so "__" never
 *   occurs inside a tenant id (the input schema refuses one that does): the
 *   text before the first "__" is always the tenant, and no tenant's prefix
 *   can be the start of another's collection name;
 * - no ".", "$", spaces or non-Latin letters, and names start with a letter:
 *   valid for MongoDB and for FerretDB (which is stricter about names);
 * - short: 64 + 2 + 17 characters at most, well under FerretDB's 120 and
 *   MongoDB's 255-byte namespace limits.
 * A separate database per shared tenant would defeat the point of sharing
 * (one database per tenant is what `dedicated` costs).
 */
import { z } from 'zod';

export const TENANT_COLLECTIONS = ['roles', 'permission_sets', 'workflow_templates', 'reference_data', 'tenant_config'] as const;
export type TenantCollection = (typeof TENANT_COLLECTIONS)[number];

/** The collections filled from a seed manifest; tenant_config belongs to the feature-flags step. */
export const SEEDED_COLLECTIONS = ['roles', 'permission_sets', 'workflow_templates', 'reference_data'] as const;
export type SeededCollection = (typeof SEEDED_COLLECTIONS)[number];

/** Collections the product itself fills (its people), read here only to measure usage. */
export const PRODUCT_COLLECTIONS = ['users'] as const;
export type ProductCollection = (typeof PRODUCT_COLLECTIONS)[number];

export type Isolation = 'dedicated' | 'shared';

const PREFIX_SEPARATOR = '__';

export const isolationSchema = z.enum(['dedicated', 'shared'], {
  error: 'isolation is "dedicated" (own database) or "shared" (collections in the shared database)',
});

export const tenantIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, {
    error: 'tenantId is lowercase letters, digits, "_" and "-", starts with a letter, at most 64 characters (e.g. tnt_acme)',
  })
  .refine((id) => !id.includes(PREFIX_SEPARATOR) && !id.endsWith('_'), {
    error: `tenantId may not contain "${PREFIX_SEPARATOR}" or end with "_": it separates the tenant from the collection name`,
  });

// Server-internal databases must never be handed to a tenant (and never dropped by a rollback).
const RESERVED_DATABASES: ReadonlySet<string> = new Set(['admin', 'local', 'config']);

export const databaseNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, {
    error: 'database is lowercase letters, digits, "_" and "-", starts with a letter, at most 63 characters',
  })
  .refine((name) => !RESERVED_DATABASES.has(name), { error: (issue) => `database "${String(issue.input)}" is reserved by the server` });

export type TenantLayoutInput = { tenantId: string; database: string; isolation: Isolation };

export type TenantLayout = {
  dbName: string;
  isolation: Isolation;
  /** Physical collection name for each logical collection. */
  collections: Readonly<Record<TenantCollection, string>>;
};

export function collectionNameFor(isolation: Isolation, tenantId: string, collection: TenantCollection | ProductCollection): string {
  return isolation === 'dedicated' ? collection : `${tenantId}${PREFIX_SEPARATOR}${collection}`;
}

export function tenantLayout({ tenantId, database, isolation }: TenantLayoutInput): TenantLayout {
  const name = (collection: TenantCollection) => collectionNameFor(isolation, tenantId, collection);
  return {
    dbName: database,
    isolation,
    collections: {
      roles: name('roles'),
      permission_sets: name('permission_sets'),
      workflow_templates: name('workflow_templates'),
      reference_data: name('reference_data'),
      tenant_config: name('tenant_config'),
    },
  };
}

/**
 * Where the feature-flags step writes `{ _id: tenantId, features: {...} }`:
 * the tenant_config collection of the same layout the database step created.
 */
export function tenantConfigCollection(database: string, isolation: Isolation, tenantId: string): { dbName: string; collectionName: string } {
  return { dbName: database, collectionName: collectionNameFor(isolation, tenantId, 'tenant_config') };
}
