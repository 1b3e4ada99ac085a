// Seed manifests: versioned data sets (roles, permission sets, workflow templates,
// reference data) loaded into a new tenant's database. A plan pins one version
// (`seedVersion`), so a new seed release never changes tenants already provisioned.
import { z } from 'zod';

const KeySchema = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, {
  error: 'Keys are lowercase snake_case starting with a letter (e.g. billing_admin)',
});
// Permissions are values (never Mongo keys), so "resource:action" is allowed.
const PermissionSchema = z.string().regex(/^[a-z][a-z0-9_.:-]*$/, {
  error: 'Permissions look like "resource:action" in lowercase (e.g. users:invite)',
});

const RoleSchema = z.strictObject({ key: KeySchema, name: z.string().min(1), permissions: z.array(PermissionSchema) });
const PermissionSetSchema = z.strictObject({ key: KeySchema, name: z.string().min(1), permissions: z.array(PermissionSchema).min(1) });
const WorkflowTemplateSchema = z.strictObject({ key: KeySchema, name: z.string().min(1), steps: z.array(z.string().min(1)).min(1) });
const ReferenceDataSchema = z.strictObject({ key: KeySchema, kind: z.string().min(1), values: z.array(z.string().min(1)).min(1) });

type SeedIssue = { path: (string | number)[]; message: string };

type SeedCollections = {
  roles: { key: string; permissions: string[] }[];
  permissionSets: { key: string; permissions: string[] }[];
  workflowTemplates: { key: string }[];
  referenceData: { key: string }[];
};

const COLLECTION_NAMES: readonly (keyof SeedCollections)[] = ['roles', 'permissionSets', 'workflowTemplates', 'referenceData'];

/** Rules across collections: unique keys, and roles grant only permissions some set defines. */
export function checkSeedCollections(collections: SeedCollections): SeedIssue[] {
  const issues: SeedIssue[] = [];
  for (const name of COLLECTION_NAMES) {
    issues.push(...duplicateKeys(name, collections[name]));
  }
  const defined = new Set(collections.permissionSets.flatMap((set) => set.permissions));
  collections.roles.forEach((role, roleIndex) => {
    role.permissions.forEach((permission, index) => {
      if (!defined.has(permission)) {
        issues.push({
          path: ['collections', 'roles', roleIndex, 'permissions', index],
          message: `role "${role.key}" grants "${permission}", which no permission set defines; add it to a permission set or fix the spelling`,
        });
      }
    });
  });
  return issues;
}

function duplicateKeys(collection: string, items: readonly { key: string }[]): SeedIssue[] {
  const seen = new Map<string, number>();
  const issues: SeedIssue[] = [];
  items.forEach((item, index) => {
    const first = seen.get(item.key);
    if (first === undefined) seen.set(item.key, index);
    else
      issues.push({
        path: ['collections', collection, index, 'key'],
        message: `duplicate key "${item.key}" (first used by ${collection}[${first}])`,
      });
  });
  return issues;
}

export const SeedManifestSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    version: z.string().regex(/^\d{4}\.\d{1,2}\.\d+$/, { error: 'Seed versions look like 2026.11.0 (year.month.patch)' }),
    description: z.string().min(1),
    collections: z.strictObject({
      roles: z.array(RoleSchema),
      permissionSets: z.array(PermissionSetSchema),
      workflowTemplates: z.array(WorkflowTemplateSchema),
      referenceData: z.array(ReferenceDataSchema),
    }),
  })
  .superRefine((manifest, ctx) => {
    for (const issue of checkSeedCollections(manifest.collections)) {
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: manifest });
    }
  });

export type SeedManifest = z.output<typeof SeedManifestSchema>;
