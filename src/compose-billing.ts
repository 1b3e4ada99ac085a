/**
 * The billing half of the composition root: the inbox on MongoDB, the
 * follow-up queue on BullMQ (run here when this process runs workers), the
 * #onboarding notices, and what the webhook doors need (secrets, the
 * price → plan and feature maps).
 */
import type { WebClient } from '@slack/web-api';
import type { Db, MongoClient } from 'mongodb';
import { billingQueue, type BillingQueue } from './adapters/billing-queue.ts';
import type { Logger } from './adapters/logger.ts';
import { MongoBillingStore } from './adapters/mongo-billing-store.ts';
import { LoggedBillingNotices, SlackBillingNotices } from './adapters/slack/billing-notices.ts';
import { BillingService, type TenantTerms } from './app/billing.ts';
import type { ProvisioningService } from './app/services.ts';
import type { Applied } from './domain/drift.ts';
import { planNamed } from './domain/plan.ts';
import { storedFlags, tenantConfigRecords } from './steps/feature-flags/record.ts';
import type { JobStore } from './ports/store.ts';
import type { Config } from './config.ts';
import type { WebhookDeps } from './http/routes/webhooks/index.ts';
import type { Manifests } from './manifests/load.ts';

export type Billing = { service: BillingService; store: MongoBillingStore; queue: BillingQueue; close(): Promise<void> };

export async function composeBilling(parts: {
  config: Config;
  db: Db;
  manifests: Manifests;
  runWorkers: boolean;
  provisioning: ProvisioningService;
  jobs: JobStore;
  /** Where tenants' configuration records live (the feature_flags and tenant_entitlements steps write them). */
  tenantData: MongoClient;
  slack: { client: WebClient; channel: string } | undefined;
  logger: Logger;
  onError(err: unknown): void;
}): Promise<Billing> {
  const { config } = parts;
  const store = new MongoBillingStore(parts.db);
  await store.ensureBillingIndexes();
  const notices = parts.slack ? new SlackBillingNotices(parts.slack.client, parts.slack.channel) : new LoggedBillingNotices(parts.logger);
  let service: BillingService | undefined;
  const queue = billingQueue({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    onError: parts.onError,
    driftCheckCron: parts.runWorkers ? config.billing.driftCheckCron : undefined,
    ...(parts.runWorkers
      ? {
          run: {
            followUp: (key: string) => built().followUp(key),
            graceEnded: (key: string) => built().graceEnded(key),
            driftCheck: () => built().postNewDrift(),
          },
        }
      : {}),
  });
  const built = () => {
    if (!service) throw new Error('a billing follow-up ran before the billing service was built');
    return service;
  };
  const { plans } = parts.manifests;
  service = new BillingService({
    store,
    followUps: queue,
    notices,
    provisionUnknownFrom: config.billing.provisionUnknownFrom,
    paymentGraceMs: config.billing.paymentGraceMs,
    catalogue: { flags: Object.keys(plans.featureFlags), plan: (id) => planNamed(plans, id) },
    terms: (slug) => termsOf(slug, parts.jobs),
    applied: (slug) => appliedOf(slug, parts.jobs, parts.tenantData),
    lifecycle: parts.provisioning.lifecycle,
    provision: (intake, who) => parts.provisioning.provision(intake, who),
    today: () => new Date().toISOString().slice(0, 10),
  });
  return { service, store, queue, close: () => queue.close() };
}

/** The plan a tenant is on and its deal's overrides; undefined for a tenant nobody asked for. */
async function termsOf(slug: string, jobs: JobStore): Promise<TenantTerms | undefined> {
  const tenant = await jobs.tenant(slug);
  if (!tenant) return undefined;
  const provisioned = await jobs.getJob(tenant.jobId);
  if (!provisioned) return undefined;
  const { intake } = provisioned.definition;
  return { planId: tenant.planId ?? intake.plan, overrides: intake.featureOverrides, status: tenant.status, companyName: tenant.companyName };
}

/** The flags and limits in the tenant's configuration record; none when it has no record. */
async function appliedOf(slug: string, jobs: JobStore, tenantData: MongoClient): Promise<Applied> {
  const tenant = await jobs.tenant(slug);
  const provisioned = tenant ? await jobs.getJob(tenant.jobId) : null;
  if (!provisioned) return { flags: {}, limits: {} };
  const t = provisioned.definition.tenant;
  const record = await tenantConfigRecords(tenantData, { tenantId: t.tenantId, database: t.databaseName, isolation: t.isolation }).findOne({
    _id: t.tenantId,
  });
  const limits: unknown = record ? Reflect.get(record, 'limits') : undefined;
  return { flags: storedFlags(record), limits: limits !== null && typeof limits === 'object' ? Object.fromEntries(Object.entries(limits)) : {} };
}

/** What POST /webhooks/stripe and /webhooks/bunny need, from configuration and the manifests. */
export function webhookDeps(
  config: Config,
  manifests: Manifests,
  billing: BillingService,
  log: Logger,
  onError: (err: unknown) => void,
): WebhookDeps {
  const plans = manifests.plans.plans;
  const byPrice = new Map(Object.entries(plans).map(([planId, plan]) => [plan.billing.priceRef, planId]));
  const onIgnored = (reason: string) => log.info({ reason }, 'ignored a billing event');
  return {
    receive: (event) => billing.receive(event),
    stripe: {
      secret: config.billing.stripeWebhookSecret,
      toleranceSeconds: config.billing.stripeToleranceSeconds,
      mapping: {
        planOfPrice: (price) => byPrice.get(price),
        features: manifests.billingFeatures.stripe.features,
        quantityLimit: manifests.billingFeatures.stripe.quantityLimit,
      },
      onIgnored,
    },
    bunny: {
      signingToken: config.billing.bunnySigningToken,
      mapping: { isPlan: (planId) => Object.hasOwn(plans, planId), features: manifests.billingFeatures.bunny.features },
      onIgnored,
    },
    onError,
  };
}
