/**
 * After the chaos: what every system holds for every tenant, against what the
 * tenant should have. A live tenant has exactly one of each resource its plan
 * calls for; no tenant (live or failed) has more than one of anything.
 * Counted by test/support/tenant-resources.ts (the same evidence the crash
 * tests use), plus the SMTP sink's messages.
 */
import type { JobView } from '../../src/domain/job-view.ts';
import type { SeedManifest } from '../../src/manifests/seed.ts';
import { planTenantData } from '../../src/steps/tenant-data/plan.ts';
import type { TestApp } from '../../test/support/harness.ts';
import { resourcesOf, tenantOfJob } from '../../test/support/tenant-resources.ts';

/** One kind of resource of one tenant: found, at least `expected` (a live tenant's due), at most `max`. */
export type Count = { tenant: string; kind: string; found: number; expected: number; max: number };

export type Inventory = { counts: Count[]; duplicates: number; missing: number };

/**
 * `inspector`: an app shaped like a test app whose configuration reaches the
 * servers directly (AWS without the latency proxy), and whose emulators are the run's.
 */
export async function takeInventory(inspector: TestApp, jobs: readonly JobView[], seeds: ReadonlyMap<string, SeedManifest>): Promise<Inventory> {
  const counts: Count[] = [];
  // A few tenants at a time: FerretDB answers one query at a time per database anyway.
  for (let i = 0; i < jobs.length; i += 8) {
    const batch = await Promise.all(jobs.slice(i, i + 8).map((job) => tenantCounts(inspector, job, seeds)));
    counts.push(...batch.flat());
  }
  const duplicates = counts.reduce((n, c) => n + Math.max(0, c.found - c.max), 0);
  const missing = counts.reduce((n, c) => n + Math.max(0, c.expected - c.found), 0);
  return { counts, duplicates, missing };
}

async function tenantCounts(inspector: TestApp, job: JobView, seeds: ReadonlyMap<string, SeedManifest>): Promise<Count[]> {
  const { tenant, adminEmail } = await tenantOfJob(inspector, job.jobId);
  const made = await resourcesOf(inspector, job.jobId);
  const live = job.status === 'live';
  const sso = tenant.features['sso'] === true;
  const succeeded = (stepId: string) => job.steps.find((s) => s.id === stepId)?.state === 'succeeded';
  const seed = seeds.get(tenant.seedVersion);
  const plan = planTenantData({ tenantId: tenant.tenantId, database: tenant.databaseName, isolation: tenant.isolation, ...(seed ? { seed } : {}) });
  // A live tenant has exactly its plan's share; a failed one any part of it, but never more.
  const count = (kind: string, found: number, due: number): Count => ({ tenant: tenant.slug, kind, found, expected: live ? due : 0, max: due });
  const mails = inspector.emulators?.smtp.messages().filter((m) => m.to.includes(adminEmail)) ?? [];
  const emails = new Set(mails.map((m) => m.messageId ?? m.raw)).size;
  return [
    count('stripe customer', made.stripeCustomers.length, 1),
    count('stripe subscription', made.stripeSubscriptions.length, 1),
    count('okta admin group', made.oktaGroups.length, sso ? 1 : 0),
    count('okta admin user', made.oktaUsers.length, sso ? 1 : 0),
    count('okta app', made.oktaApps.length, sso ? 1 : 0),
    count('route 53 record', made.dnsRecords.length, 1),
    count('secret', made.secrets.length, 1),
    count('s3 bucket', made.buckets.length, 1),
    count('acm certificate', made.certificates.length, 1),
    count('acm validation record', made.validationRecords.length, 1),
    ...plan.collections.map((c) => count(`collection ${c.name}`, c.collection in made.collections ? 1 : 0, 1)),
    ...plan.inserts.map((insert) => count(`${insert.collection} seed records`, made.collections[insert.collection] ?? 0, insert.documents.length)),
    count('tenant config record', made.collections['tenant_config'] ?? 0, 1),
    // SMTP has no idempotency: a copy sent again after a crash carries the same Message-ID (see welcome-email.ts),
    // so distinct Message-IDs are the emails a person sees; copies are reported apart. A failed send owes none.
    { ...count('welcome email', emails, 1), expected: live && succeeded('welcome_email') ? 1 : 0 },
  ];
}

/** Same-Message-ID copies of welcome emails (SMTP's documented at-least-once), for the report. */
export function emailCopies(inspector: TestApp): number {
  const messages = inspector.emulators?.smtp.messages() ?? [];
  return messages.length - new Set(messages.map((m) => m.messageId ?? m.raw)).size;
}
