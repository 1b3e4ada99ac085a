/**
 * The tenant's configuration record, `{ _id: tenantId, features: {...} }` in
 * the tenant_config collection of the tenant's data layout, and how its
 * stored flags compare with the flags the plan and the deal call for.
 */
import type { Collection, MongoClient } from 'mongodb';
import { z } from 'zod';
import { tenantConfigCollection, type Isolation } from '../tenant-data/layout.ts';

/** What the record may hold; `features` is typed loosely because people edit it by hand. */
export type TenantConfigRecord = { _id: string; features?: unknown; featuresUpdatedBy?: unknown };

export type RecordLocation = { tenantId: string; database: string; isolation: Isolation };

export function tenantConfigRecords(client: MongoClient, where: RecordLocation): Collection<TenantConfigRecord> {
  const { dbName, collectionName } = tenantConfigCollection(where.database, where.isolation, where.tenantId);
  return client.db(dbName).collection<TenantConfigRecord>(collectionName);
}

const storedFeaturesSchema = z.record(z.string(), z.unknown());

/** The flags as stored; a `features` value that is not a mapping (a bad hand edit) reads as no flags. */
export function storedFlags(record: TenantConfigRecord | null): Record<string, unknown> {
  const parsed = storedFeaturesSchema.safeParse(record?.features);
  return parsed.success ? parsed.data : {};
}

/** Flags in the record that the plan does not know: set by code or by hand, outside the manifest. */
export function flagsOutsidePlan(stored: Record<string, unknown>, planned: Record<string, boolean>): string[] {
  return Object.keys(stored)
    .filter((flag) => !(flag in planned))
    .sort();
}

function onOff(value: unknown): string {
  if (value === true) return 'on';
  if (value === false) return 'off';
  return `set to ${JSON.stringify(value)}`;
}

/** One plain sentence per flag that differs between the record and the plan (empty when they match). */
export function flagDifferences(stored: Record<string, unknown>, planned: Record<string, boolean>): string[] {
  const differences: string[] = [];
  for (const [flag, wanted] of Object.entries(planned)) {
    if (!(flag in stored)) differences.push(`feature flag ${flag} is missing from the record (the plan says ${onOff(wanted)})`);
    else if (stored[flag] !== wanted) {
      differences.push(`feature flag ${flag} is ${onOff(stored[flag])} in the record but the plan says ${onOff(wanted)}`);
    }
  }
  for (const flag of flagsOutsidePlan(stored, planned)) {
    differences.push(`feature flag ${flag} is in the record but not in the plan`);
  }
  return differences;
}

export function enabledFlags(flags: Record<string, boolean>): string[] {
  return Object.entries(flags)
    .filter(([, on]) => on)
    .map(([flag]) => flag)
    .sort();
}
