/**
 * Builds the vendors' own SDK clients from configuration: the one place that
 * knows where Route 53, Secrets Manager, Okta, Stripe, SMTP and the tenant
 * data server live. In the local profile they point at emulators.
 */
import { CreateHostedZoneCommand, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { ACMClient } from '@aws-sdk/client-acm';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client as OktaClient } from '@okta/okta-sdk-nodejs';
import type { MongoClient } from 'mongodb';
import nodemailer from 'nodemailer';
import Stripe from 'stripe';
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
  const route53 = new Route53Client(aws);
  // An emulator answers on one host: buckets are addressed by path there, never as <bucket>.<host>.
  const s3 = perRegion((region) => new S3Client({ ...aws, region, ...(i.aws.endpoint ? { forcePathStyle: true } : {}) }));
  const acm = perRegion((region) => new ACMClient({ ...aws, region }));
  const secrets = new SecretsManagerClient(aws);
  const secretsElsewhere = perRegion((region) => new SecretsManagerClient({ ...aws, region }));
  // Guarded like the store's: a stalled driver monitor would fail every tenant data step until the process restarts.
  const ownTenantClient = i.tenantMongoUri ? guardedMongoClient(i.tenantMongoUri, { name: 'tenant data', log: opts.log }) : undefined;
  const hostedZoneId = opts.uses.has('aws-route53') ? await hostedZoneFor(route53, i.hostedZoneId, config.tenant.baseDomain) : (i.hostedZoneId ?? '');
  const services: IntegrationServices = {
    tenantData: ownTenantClient?.client ?? opts.storeClient,
    seeds: opts.seeds,
    dns: { client: route53, hostedZoneId },
    secrets: {
      client: secrets,
      inRegion: (region) => (region === i.aws.region ? secrets : secretsElsewhere.get(region)),
      recoveryWindowDays: i.secretsRecoveryWindowDays,
    },
    storage: { s3: s3.get },
    certificates: { acm: acm.get },
    okta: once(() => oktaClient(i.okta.orgUrl, i.okta.token)),
    stripe: stripeClient(i.stripe.secretKey, i.stripe.apiUrl),
    mail: { transport: nodemailer.createTransport(i.mail.smtpUrl), from: i.mail.from },
  };
  return {
    services,
    async close() {
      services.mail.transport.close();
      route53.destroy();
      services.secrets.client.destroy();
      secretsElsewhere.destroy();
      s3.destroy();
      acm.destroy();
      await ownTenantClient?.close();
    },
  };
}

/** What `make` gives, made on the first call only (a failed make is tried again on the next). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
}

/** One SDK client per region, made when a step first needs that region. */
function perRegion<C extends { destroy(): void }>(make: (region: string) => C): { get(region: string): C; destroy(): void } {
  const clients = new Map<string, C>();
  return {
    get(region) {
      const known = clients.get(region);
      if (known) return known;
      const client = make(region);
      clients.set(region, client);
      return client;
    },
    destroy() {
      for (const client of clients.values()) client.destroy();
    },
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

function stripeClient(secretKey: string, apiUrl: string | undefined): Stripe {
  if (!apiUrl) return new Stripe(secretKey, { maxNetworkRetries: 0 });
  const url = new URL(apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(secretKey, { host: url.hostname, port: url.port || (protocol === 'http' ? 80 : 443), protocol, maxNetworkRetries: 0 });
}

/**
 * The configured zone, or (local profile only, where config leaves it unset)
 * the emulator's zone for the base domain, created on first use.
 */
async function hostedZoneFor(client: Route53Client, configured: string | undefined, baseDomain: string): Promise<string> {
  if (configured) return configured;
  const dnsName = `${baseDomain}.`;
  const found = await client.send(new ListHostedZonesByNameCommand({ DNSName: dnsName, MaxItems: 1 }));
  const zone = found.HostedZones?.find((z) => z.Name === dnsName);
  const id =
    zone?.Id ??
    (await client.send(new CreateHostedZoneCommand({ Name: dnsName, CallerReference: `provisioner-local-${baseDomain}` }))).HostedZone?.Id;
  if (!id) throw new Error(`could not find or create the local hosted zone for ${baseDomain}`);
  return id.replace('/hostedzone/', '');
}
