/**
 * Builds the context a step receives from the engine, for tests that call a
 * step directly. Every service is a real client; the ones a test does not
 * plug in point at a closed loopback port, so an accidental call fails loudly.
 */
import { Route53Client } from '@aws-sdk/client-route-53';
import { ACMClient } from '@aws-sdk/client-acm';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as okta from '@okta/okta-sdk-nodejs';
import { MongoClient } from 'mongodb';
import nodemailer from 'nodemailer';
import Stripe from 'stripe';
import type { DerivedTenant } from '../../src/domain/intake.ts';
import type { RollbackPurpose } from '../../src/domain/job.ts';
import type { StepServices } from '../../src/ports/step-services.ts';
import { idempotencyKeyFor, type StepContext } from '../../src/steps/step.ts';

/** Nothing listens here. */
export const CLOSED_PORT = 9;
const CLOSED = `http://127.0.0.1:${CLOSED_PORT}`;
export const AWS_TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export function unusedServices(): StepServices {
  return {
    sandbox: {
      create: () => Promise.reject(new Error('sandbox not plugged in')),
      exists: () => Promise.reject(new Error('sandbox not plugged in')),
      remove: () => Promise.reject(new Error('sandbox not plugged in')),
      touch: () => Promise.reject(new Error('sandbox not plugged in')),
    },
    webhookSigningSecret: 'test-webhook-secret-0123456789',
    webhookEndpoints: {},
    fetch: globalThis.fetch,
    tenantData: new MongoClient(`mongodb://127.0.0.1:${CLOSED_PORT}/`, { serverSelectionTimeoutMS: 500 }),
    seeds: new Map(),
    dns: {
      client: async () => new Route53Client({ endpoint: CLOSED, region: 'us-east-1', credentials: AWS_TEST_CREDENTIALS }),
      hostedZoneId: 'Z0NOTPLUGGED',
    },
    secrets: {
      client: async () => new SecretsManagerClient({ endpoint: CLOSED, region: 'us-east-1', credentials: AWS_TEST_CREDENTIALS }),
      inRegion: async (region) => new SecretsManagerClient({ endpoint: CLOSED, region, credentials: AWS_TEST_CREDENTIALS }),
      recoveryWindowDays: 7,
    },
    storage: { s3: async (region) => new S3Client({ endpoint: CLOSED, region, credentials: AWS_TEST_CREDENTIALS, forcePathStyle: true }) },
    certificates: { acm: async (region) => new ACMClient({ endpoint: CLOSED, region, credentials: AWS_TEST_CREDENTIALS }) },
    okta: async () => new okta.Client({ orgUrl: CLOSED, token: 'unused' }),
    stripe: async () => new Stripe('sk_test_unused', { host: '127.0.0.1', port: CLOSED_PORT, protocol: 'http' }),
    mail: {
      transport: async () => nodemailer.createTransport({ host: '127.0.0.1', port: CLOSED_PORT }),
      from: 'Onboarding <onboarding@example.com>',
    },
    tenants: {
      tenant: () => Promise.reject(new Error('tenant registry not plugged in')),
      moveTenant: () => Promise.reject(new Error('tenant registry not plugged in')),
    },
    provisioningRollbacks: {
      rollBack: () => Promise.reject(new Error('provisioning rollbacks not plugged in')),
      status: () => Promise.reject(new Error('provisioning rollbacks not plugged in')),
    },
  };
}

export function sampleTenant(overrides: Partial<DerivedTenant> = {}): DerivedTenant {
  const slug = overrides.slug ?? 'acme';
  return {
    tenantId: `tnt_${slug}`,
    slug,
    companyName: 'Acme Corp',
    planId: 'growth',
    databaseName: 'tenants_shared',
    isolation: 'shared',
    dnsName: `${slug}.tenants.example.com`,
    tenantUrl: `https://${slug}.tenants.example.com`,
    secretPath: `tenants/${slug}`,
    billingMetadata: { tenant_id: `tnt_${slug}`, crm_opportunity_id: 'OPP-1', plan: 'growth' },
    features: { sso: true, audit_log: true },
    seedVersion: '2026.11.0',
    approvalReasons: [],
    ...overrides,
  };
}

export type ContextOptions = {
  jobId?: string;
  stepId?: string;
  tenant?: DerivedTenant;
  services?: Partial<StepServices>;
  outputs?: Record<string, unknown>;
  attempt?: number;
  providedInput?: unknown;
  /** What a rollback is for: an undo unless told. */
  rollbackPurpose?: RollbackPurpose;
};

/** The context of one attempt; pass the outputs of an earlier run to check or roll it back. */
export function stepContext(opts: ContextOptions = {}): StepContext<unknown> {
  const jobId = opts.jobId ?? 'acme-1a2b3c';
  const stepId = opts.stepId ?? 'step';
  return {
    jobId,
    stepId,
    input: {},
    tenant: opts.tenant ?? sampleTenant(),
    idempotencyKey: idempotencyKeyFor(jobId, stepId),
    attempt: opts.attempt ?? 1,
    signal: new AbortController().signal,
    outputs: opts.outputs ?? {},
    providedInput: opts.providedInput,
    approvedBy: undefined,
    rollbackPurpose: opts.rollbackPurpose ?? 'undo',
    services: { ...unusedServices(), ...opts.services },
  };
}
