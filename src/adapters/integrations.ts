/**
 * Builds the vendors' own SDK clients from configuration: the one place that
 * knows where Route 53, Secrets Manager, S3, ACM, Okta, Stripe, SMTP and the
 * tenant data server live. In the local profile they point at emulators.
 *
 * Each vendor client is made when a step first asks for it, and its SDK is
 * imported only then: the SDKs cost memory in every process that imports
 * them (see StepServices), and most processes run none of their steps.
 */
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { Client as OktaClient } from '@okta/okta-sdk-nodejs';
import type { MongoClient } from 'mongodb';
import type Stripe from 'stripe';
import type { Config } from '../config.ts';
import type { SeedManifest } from '../manifests/seed.ts';
import type { Log } from '../ports/logger.ts';
import type { Integration, StepServices } from '../ports/step-services.ts';
import { guardedMongoClient } from './mongo-client.ts';

export type IntegrationServices = Omit<
  StepServices,
  'sandbox' | 'webhookSigningSecret' | 'webhookEndpoints' | 'fetch' | 'tenants' | 'provisioningRollbacks'
>;

export type ConnectedIntegrations = { services: IntegrationServices; close(): Promise<void> };

export async function connectIntegrations(opts: {
  config: Config;
  /** The job store's client: tenant data shares it unless TENANT_MONGODB_URI says otherwise. */
  storeClient: MongoClient;
  seeds: ReadonlyMap<string, SeedManifest>;
  uses: ReadonlySet<Integration>;
  log: Log;
}): Promise<ConnectedIntegrations> {
  const { config } = opts;
  const i = config.integrations;
  // maxAttempts 1 (and maxNetworkRetries 0 for Stripe): the engine owns retries, with the
  // pipeline's backoff, and every retry shows in the audit trail. One place, one policy.
  const aws = {
    region: i.aws.region,
    maxAttempts: 1,
    ...(i.aws.endpoint ? { endpoint: i.aws.endpoint } : {}),
    ...(i.aws.credentials ? { credentials: i.aws.credentials } : {}),
  };
  const route53 = once(async () => new (await import('@aws-sdk/client-route-53')).Route53Client(aws));
  // An emulator answers on one host: buckets are addressed by path there, never as <bucket>.<host>.
  const pathStyle = i.aws.endpoint ? { forcePathStyle: true } : {};
  const s3 = perRegion(async (region) => new (await import('@aws-sdk/client-s3')).S3Client({ ...aws, region, ...pathStyle }));
  const acm = perRegion(async (region) => new (await import('@aws-sdk/client-acm')).ACMClient({ ...aws, region }));
  const secrets = perRegion(async (region) => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({ ...aws, region }));
  const okta = once(() => oktaClient(i.okta.orgUrl, i.okta.token));
  const stripe = once(() => stripeClient(i.stripe.secretKey, i.stripe.apiUrl));
  const mail = once(async () => (await import('nodemailer')).default.createTransport(i.mail.smtpUrl));
  // Guarded like the store's: a stalled driver monitor would fail every tenant data step until the process restarts.
  const ownTenantClient = i.tenantMongoUri ? guardedMongoClient(i.tenantMongoUri, { name: 'tenant data', log: opts.log }) : undefined;
  // Only a process whose pipelines have DNS steps looks the zone up (in the local profile, loading the Route 53 SDK now).
  const hostedZoneId = opts.uses.has('aws-route53')
    ? await hostedZoneFor(route53.get, i.hostedZoneId, config.tenant.baseDomain)
    : (i.hostedZoneId ?? '');
  const services: IntegrationServices = {
    tenantData: ownTenantClient?.client ?? opts.storeClient,
    seeds: opts.seeds,
    dns: { client: route53.get, hostedZoneId },
    secrets: {
      client: () => secrets.get(i.aws.region),
      inRegion: secrets.get,
      recoveryWindowDays: i.secretsRecoveryWindowDays,
    },
    storage: { s3: s3.get },
    certificates: { acm: acm.get },
    okta: okta.get,
    stripe: stripe.get,
    mail: { transport: mail.get, from: i.mail.from },
  };
  return {
    services,
    // Closes only what was made (waiting for a make under way): closing must not load an SDK.
    async close() {
      (await mail.made())?.close();
      (await route53.made())?.destroy();
      for (const client of [...(await secrets.made()), ...(await s3.made()), ...(await acm.made())]) client.destroy();
      await ownTenantClient?.close();
    },
  };
}

/** A client made on the first `get` only; a failed make is tried again on the next. */
type Lazy<T> = {
  get: () => Promise<T>;
  /** What was made, once a make under way has settled; undefined when nothing was (or the make failed). */
  made: () => Promise<T | undefined>;
};

function once<T>(make: () => Promise<T>): Lazy<T> {
  let making: Promise<T> | undefined;
  return {
    get: () => {
      making ??= make().catch((err: unknown) => {
        making = undefined;
        throw err;
      });
      return making;
    },
    made: async () => making?.catch(() => undefined),
  };
}

/** One SDK client per region, made when a step first needs that region. */
function perRegion<C>(make: (region: string) => Promise<C>): { get: (region: string) => Promise<C>; made: () => Promise<C[]> } {
  const clients = new Map<string, Lazy<C>>();
  return {
    get: (region) => {
      const known = clients.get(region) ?? once(() => make(region));
      clients.set(region, known);
      return known.get();
    },
    made: async () => (await Promise.all([...clients.values()].map((client) => client.made()))).filter((client) => client !== undefined),
  };
}

/**
 * The engine owns retries here too: the SDK's own 429 loop can wait a minute per try
 * (past the step's timeout), and its cache would answer GETs for resources
 * already deleted in the admin console.
 */
async function oktaClient(orgUrl: string, token: string): Promise<OktaClient> {
  const okta = await import('@okta/okta-sdk-nodejs');
  return new okta.Client({
    orgUrl,
    token,
    requestExecutor: new okta.DefaultRequestExecutor({ maxRetries: 0, requestTimeout: 0 }),
    cacheMiddleware: null,
  });
}

async function stripeClient(secretKey: string, apiUrl: string | undefined): Promise<Stripe> {
  const { default: StripeSdk } = await import('stripe');
  if (!apiUrl) return new StripeSdk(secretKey, { maxNetworkRetries: 0 });
  const url = new URL(apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new StripeSdk(secretKey, { host: url.hostname, port: url.port || (protocol === 'http' ? 80 : 443), protocol, maxNetworkRetries: 0 });
}

/**
 * The configured zone, or (local profile only, where config leaves it unset)
 * the emulator's zone for the base domain, created on first use.
 */
async function hostedZoneFor(route53: () => Promise<Route53Client>, configured: string | undefined, baseDomain: string): Promise<string> {
  if (configured) return configured;
  const client = await route53();
  const { CreateHostedZoneCommand, ListHostedZonesByNameCommand } = await import('@aws-sdk/client-route-53');
  const dnsName = `${baseDomain}.`;
  const found = await client.send(new ListHostedZonesByNameCommand({ DNSName: dnsName, MaxItems: 1 }));
  const zone = found.HostedZones?.find((z) => z.Name === dnsName);
  const id =
    zone?.Id ??
    (await client.send(new CreateHostedZoneCommand({ Name: dnsName, CallerReference: `provisioner-local-${baseDomain}` }))).HostedZone?.Id;
  if (!id) throw new Error(`could not find or create the local hosted zone for ${baseDomain}`);
  return id.replace('/hostedzone/', '');
}
