/**
 * What each real system holds for one tenant, read through the same clients
 * and emulators the bot uses: the evidence that provisioning made something
 * and that rolling back left nothing.
 */
import { ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import {
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { GetBucketLocationCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MongoClient } from 'mongodb';
import type { DerivedTenant } from '../../src/domain/intake.ts';
import { parseJobDefinition } from '../../src/domain/job-definition.ts';
import { tenantLayout } from '../../src/steps/tenant-data/layout.ts';
import type { TestApp } from './harness.ts';

export type TenantResources = {
  /** Tenant collections that exist, with their record counts. */
  collections: Record<string, number>;
  features: Record<string, unknown> | null;
  dnsRecords: string[];
  secrets: string[];
  oktaGroups: string[];
  oktaUsers: string[];
  oktaApps: string[];
  stripeCustomers: string[];
  /** Live subscriptions by status, "… until the end of its period" when set to cancel then. */
  stripeSubscriptions: string[];
  /** The tenant's S3 buckets, as "<name> in <region>". */
  buckets: string[];
  /** ACM certificates for the tenant's subdomain, as "<status> in <region>", in every residency region. */
  certificates: string[];
  /** ACM validation CNAMEs under the tenant's subdomain in the hosted zone. */
  validationRecords: string[];
};

type Tenant = Pick<DerivedTenant, 'tenantId' | 'slug' | 'databaseName' | 'isolation' | 'dnsName' | 'secretPath' | 'companyName'>;

/**
 * The tenant a job provisions, exactly as the job derived it, and its admin. Read from the live
 * definition in Redis: the stored copy is redacted (its secretPath, say, reads "[redacted]").
 */
export async function tenantOfJob(app: TestApp, jobId: string): Promise<{ tenant: DerivedTenant; adminEmail: string }> {
  const text = await app.engine.state.definition(jobId);
  if (text === null) throw new Error(`job ${jobId} has no live definition`);
  const definition = parseJobDefinition(text);
  return { tenant: definition.tenant, adminEmail: definition.intake.adminEmail };
}

/** Everything each system holds for the tenant of this job. */
export async function resourcesOf(app: TestApp, jobId: string): Promise<TenantResources> {
  const { tenant, adminEmail } = await tenantOfJob(app, jobId);
  const emulators = app.emulators;
  if (!emulators) throw new Error('this app runs without emulators');
  return {
    ...(await tenantData(app.config.mongoUri, tenant)),
    dnsRecords: await dnsRecords(app, tenant.dnsName),
    secrets: await secretsAt(app, tenant.secretPath, tenant.region),
    oktaGroups: emulators.okta.groupsNamed(`tenant-${tenant.slug}-`).map((g) => g.name),
    oktaUsers: emulators.okta
      .usersWithLogin(adminEmail)
      .filter((u) => u.status !== 'DEPROVISIONED')
      .map((u) => u.login),
    oktaApps: emulators.okta.appsLabelled(tenant.companyName).map((a) => a.label),
    stripeCustomers: emulators.stripe.customersFor(tenant.tenantId).map((c) => c.id),
    stripeSubscriptions: emulators.stripe
      .liveSubscriptionsFor(tenant.tenantId)
      .map((s) => (s.cancelAtPeriodEnd ? `${s.status} until the end of its period` : s.status)),
    buckets: await bucketsOf(app, tenant.slug),
    certificates: await certificatesFor(app, tenant.dnsName),
    validationRecords: (await recordsUnder(app, tenant.dnsName)).filter((name) => name.startsWith('_')),
  };
}

/** Buckets whose name is this app's prefix and the slug, wherever they are. */
export async function bucketsOf(app: TestApp, slug: string): Promise<string[]> {
  const prefix = `${String(app.config.tenant.pipeline?.['bucketPrefix'])}-${slug}-`;
  const client = new S3Client({ ...awsClientConfig(app), forcePathStyle: true });
  try {
    const listed = await client.send(new ListBucketsCommand({}));
    const names = (listed.Buckets ?? []).flatMap((b) => (b.Name?.startsWith(prefix) ? [b.Name] : []));
    const found: string[] = [];
    for (const Bucket of names) {
      const location = (await client.send(new GetBucketLocationCommand({ Bucket }))).LocationConstraint;
      found.push(`${Bucket} in ${location || 'us-east-1'}`);
    }
    return found;
  } finally {
    client.destroy();
  }
}

/** A customer's file put in the tenant's bucket (the only one under its slug), the way the product would store it. */
export async function putInTenantBucket(app: TestApp, slug: string, key: string, body: string): Promise<void> {
  const [found] = await bucketsOf(app, slug);
  const [bucket, region] = (found ?? '').split(' in ');
  if (!bucket || !region) throw new Error(`no bucket for ${slug}`);
  const client = new S3Client({ ...awsClientConfig(app), region, forcePathStyle: true });
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

/** Certificates for `domain` in each region a residency maps to. */
export async function certificatesFor(app: TestApp, domain: string): Promise<string[]> {
  const found: string[] = [];
  for (const region of new Set(Object.values(app.manifests.plans.residencyRegions ?? {}))) {
    const client = new ACMClient({ ...awsClientConfig(app), region });
    try {
      const listed = await client.send(new ListCertificatesCommand({}));
      for (const c of listed.CertificateSummaryList ?? []) if (c.DomainName === domain) found.push(`${c.Status} in ${region}`);
    } finally {
      client.destroy();
    }
  }
  return found;
}

/** Names of the record sets at or under `dnsName` in the tenants' hosted zone, without the trailing dot. */
export async function recordsUnder(app: TestApp, dnsName: string): Promise<string[]> {
  const client = new Route53Client(awsClientConfig(app));
  try {
    const zones = await client.send(new ListHostedZonesByNameCommand({ DNSName: `${app.config.tenant.baseDomain}.`, MaxItems: 1 }));
    const zoneId = zones.HostedZones?.find((z) => z.Name === `${app.config.tenant.baseDomain}.`)?.Id;
    if (!zoneId) return [];
    return (await everyRecordSet(client, zoneId))
      .map((set) => (set.Name ?? '').replace(/\.$/, ''))
      .filter((name) => name === dnsName || name.endsWith(`.${dnsName}`));
  } finally {
    client.destroy();
  }
}

/** Every record set in the zone: Route 53 answers at most 300 a page, and a chaos run's zone holds hundreds of tenants. */
async function everyRecordSet(client: Route53Client, zoneId: string): Promise<ResourceRecordSet[]> {
  const sets: ResourceRecordSet[] = [];
  let next: { StartRecordName?: string; StartRecordType?: RRType; StartRecordIdentifier?: string } = {};
  for (;;) {
    const page = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...next }));
    sets.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated || page.NextRecordName === undefined) return sets;
    next = {
      StartRecordName: page.NextRecordName,
      ...(page.NextRecordType ? { StartRecordType: page.NextRecordType } : {}),
      ...(page.NextRecordIdentifier ? { StartRecordIdentifier: page.NextRecordIdentifier } : {}),
    };
  }
}

async function tenantData(uri: string, tenant: Tenant): Promise<Pick<TenantResources, 'collections' | 'features'>> {
  const mongo = new MongoClient(uri);
  try {
    const layout = tenantLayout({ tenantId: tenant.tenantId, database: tenant.databaseName, isolation: tenant.isolation });
    const db = mongo.db(layout.dbName);
    const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
    const collections: Record<string, number> = {};
    for (const [kind, name] of Object.entries(layout.collections)) {
      if (existing.has(name)) collections[kind] = await db.collection(name).countDocuments();
    }
    const config = existing.has(layout.collections.tenant_config)
      ? await db.collection<{ _id: string; features?: Record<string, unknown> }>(layout.collections.tenant_config).findOne({ _id: tenant.tenantId })
      : null;
    return { collections, features: config?.features ?? null };
  } finally {
    await mongo.close();
  }
}

function awsClientConfig(app: TestApp) {
  const { region, endpoint, credentials } = app.config.integrations.aws;
  return { region, maxAttempts: 1, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) };
}

async function dnsRecords(app: TestApp, dnsName: string): Promise<string[]> {
  const client = new Route53Client(awsClientConfig(app));
  try {
    const zones = await client.send(new ListHostedZonesByNameCommand({ DNSName: `${app.config.tenant.baseDomain}.`, MaxItems: 1 }));
    const zoneId = zones.HostedZones?.find((z) => z.Name === `${app.config.tenant.baseDomain}.`)?.Id;
    if (!zoneId) return [];
    return (await everyRecordSet(client, zoneId))
      .filter((set) => set.Name === `${dnsName}.`)
      .map((set) => `${set.Type} ${(set.ResourceRecords ?? []).map((r) => r.Value).join(',')}`);
  } finally {
    client.destroy();
  }
}

/** Secrets listed by Secrets Manager: one scheduled for deletion no longer is. */
async function secretsAt(app: TestApp, path: string, region: string | undefined): Promise<string[]> {
  const client = new SecretsManagerClient({ ...awsClientConfig(app), ...(region ? { region } : {}) });
  try {
    const listed = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [path] }] }));
    return (listed.SecretList ?? []).map((s) => s.Name ?? '').filter((name) => name === path);
  } finally {
    client.destroy();
  }
}
