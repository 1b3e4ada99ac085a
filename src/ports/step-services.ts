/**
 * What step types may use from the outside world. Each step file reaches
 * its integration only through here, so tests plug in real clients pointed
 * at loopback servers and production plugs in the real endpoints. The
 * clients are the vendors' own SDKs: a step is written against the real API.
 *
 * Every vendor client is made on first use, and its SDK imported then: the
 * AWS, Stripe and SMTP SDKs add ~17 MB to a worker's RSS (Okta's ~65 MB), in
 * a process that may run none of their steps. Only types are imported here.
 */
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { ACMClient } from '@aws-sdk/client-acm';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client as OktaClient } from '@okta/okta-sdk-nodejs';
import type { MongoClient } from 'mongodb';
import type { Transporter } from 'nodemailer';
import type Stripe from 'stripe';
import type { RollbackPurpose } from '../domain/job.ts';
import type { SeedManifest } from '../manifests/seed.ts';
import type { TenantRegistry } from './store.ts';

/** The outside systems step types talk to; a step type names the ones it uses, so config can demand their settings. */
export type Integration = 'aws-route53' | 'aws-secrets' | 'aws-s3' | 'aws-acm' | 'okta' | 'stripe' | 'smtp';

/** A stand-in external API for sandbox steps: creating is idempotent by key, like Stripe's. */
export interface SandboxLedger {
  /** Creates the resource unless one exists under this key; says whether this call created it. */
  create(key: string, resource: { jobId: string; stepId: string; name: string }): Promise<{ created: boolean }>;
  exists(key: string): Promise<boolean>;
  /** Removes the resource; removing one already gone is fine. */
  remove(key: string): Promise<{ removed: boolean }>;
  /** Counts calls under a key across processes (drives failure injection); returns the new count. */
  touch(counterKey: string): Promise<number>;
}

/**
 * Where the deployment puts things, as a preview names them: regions, zones,
 * hosts; never a client, a token or a URL that may carry one.
 */
export type Placement = {
  /** The region of Secrets Manager and of every AWS service the tenant's residency does not place. */
  awsRegion: string;
  /** The Route 53 hosted zone of tenant records: its id, or how the local profile finds it. */
  hostedZone: string;
  /** The Okta org's host name. */
  oktaOrg: string;
  /** The From address of the bot's emails. */
  mailFrom: string;
};

export interface DnsService {
  client(): Promise<Route53Client>;
  /** The zone that holds every tenant's record (without the /hostedzone/ prefix). */
  hostedZoneId: string;
}

export interface SecretsService {
  /** In the deployment's region (AWS_REGION). */
  client(): Promise<SecretsManagerClient>;
  /** In another region, e.g. the tenant's data residency's: one client per region. */
  inRegion(region: string): Promise<SecretsManagerClient>;
  /** Days a rolled-back secret stays recoverable (7–30). */
  recoveryWindowDays: number;
}

/** Tenant buckets live in their residency's region: one client per region. */
export interface StorageService {
  s3(region: string): Promise<S3Client>;
}

/** Certificates live in the residency's region too (ACM is regional). */
export interface CertificateService {
  acm(region: string): Promise<ACMClient>;
}

export interface MailService {
  transport(): Promise<Transporter>;
  /** The From header of every email the bot sends. */
  from: string;
}

/** The engine's own rollback of a provisioning job, for decommissioning: every step type's undo, in reverse dependency order. */
export interface ProvisioningRollbacks {
  /**
   * Starts the rollback of the job (or retries a failed one), in the name of `by`; `purpose` tells each
   * step's undo what it is for (a decommissioning lets a paid subscription run to its period's end).
   */
  rollBack(jobId: string, rollback: { by: string; reason: string; purpose: RollbackPurpose }): Promise<void>;
  /** The job's status now (from its live state); undefined when the engine has none. */
  status(jobId: string): Promise<string | undefined>;
}

export interface StepServices {
  sandbox: SandboxLedger;
  /** Signs outbound webhooks; never logged. */
  webhookSigningSecret: string;
  /** Named webhook endpoints from configuration; URLs may carry tokens, so steps name them and look them up here. */
  webhookEndpoints: Readonly<Record<string, string>>;
  fetch: typeof fetch;
  /** The MongoDB server that holds tenant data: dedicated databases and the shared one. */
  tenantData: MongoClient;
  /** Seed manifests by version, validated at load. */
  seeds: ReadonlyMap<string, SeedManifest>;
  dns: DnsService;
  secrets: SecretsService;
  storage: StorageService;
  certificates: CertificateService;
  /** The Okta admin client: its SDK alone adds ~65 MB and half a second to a process that runs no SSO step. */
  okta(): Promise<OktaClient>;
  stripe(): Promise<Stripe>;
  mail: MailService;
  /** The tenants' statuses, which lifecycle steps move. */
  tenants: TenantRegistry;
  provisioningRollbacks: ProvisioningRollbacks;
}
