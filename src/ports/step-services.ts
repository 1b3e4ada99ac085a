/**
 * What step types may use from the outside world. Each step file reaches
 * its integration only through here, so tests plug in real clients pointed
 * at loopback servers and production plugs in the real endpoints. The
 * clients are the vendors' own SDKs: a step is written against the real API.
 */
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client as OktaClient } from '@okta/okta-sdk-nodejs';
import type { MongoClient } from 'mongodb';
import type { Transporter } from 'nodemailer';
import type Stripe from 'stripe';
import type { SeedManifest } from '../manifests/seed.ts';
import type { TenantRegistry } from './store.ts';

/** The outside systems step types talk to; a step type names the ones it uses, so config can demand their settings. */
export type Integration = 'aws-route53' | 'aws-secrets' | 'okta' | 'stripe' | 'smtp';

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

export interface DnsService {
  client: Route53Client;
  /** The zone that holds every tenant's record (without the /hostedzone/ prefix). */
  hostedZoneId: string;
}

export interface SecretsService {
  client: SecretsManagerClient;
  /** Days a rolled-back secret stays recoverable (7–30). */
  recoveryWindowDays: number;
}

export interface MailService {
  transport: Transporter;
  /** The From header of every email the bot sends. */
  from: string;
}

/** The engine's own rollback of a provisioning job, for decommissioning: every step type's undo, in reverse dependency order. */
export interface ProvisioningRollbacks {
  /** Starts the rollback of the job (or retries a failed one), in the name of `by`. */
  rollBack(jobId: string, by: string, reason: string): Promise<void>;
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
  okta: OktaClient;
  stripe: Stripe;
  mail: MailService;
  /** The tenants' statuses, which lifecycle steps move. */
  tenants: TenantRegistry;
  provisioningRollbacks: ProvisioningRollbacks;
}
