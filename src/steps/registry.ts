/** Every step type the engine knows, in one list. A new integration adds one line here. */
import { approvalStep } from './approval.ts';
import { billingStep } from './billing.ts';
import { billingPlanStep } from './billing-plan.ts';
import { dnsRecordStep } from './dns-record.ts';
import { gracePeriodStep } from './grace-period.ts';
import { featureFlagsStep } from './feature-flags.ts';
import { provisioningTeardownStep } from './provisioning-teardown.ts';
import { sandboxStep } from './sandbox.ts';
import { signInStep } from './sign-in.ts';
import { ssoStep } from './sso.ts';
import type { StepType } from './step.ts';
import { tenantBucketStep } from './tenant-bucket.ts';
import { tenantCertificateStep } from './tenant-certificate.ts';
import { tenantDatabaseStep } from './tenant-database.ts';
import { tenantEntitlementsStep } from './tenant-entitlements.ts';
import { tenantSecretsStep } from './tenant-secrets.ts';
import { tenantExportStep } from './tenant-export.ts';
import { tenantSeedStep } from './tenant-seed.ts';
import { tenantStatusStep } from './tenant-status.ts';
import { webhookStep } from './webhook.ts';
import { welcomeEmailStep } from './welcome-email.ts';

const ALL: readonly StepType[] = [
  approvalStep,
  sandboxStep,
  webhookStep,
  tenantDatabaseStep,
  tenantSeedStep,
  dnsRecordStep,
  tenantSecretsStep,
  ssoStep,
  featureFlagsStep,
  billingStep,
  welcomeEmailStep,
  tenantStatusStep,
  tenantEntitlementsStep,
  signInStep,
  billingPlanStep,
  gracePeriodStep,
  tenantExportStep,
  provisioningTeardownStep,
  tenantBucketStep,
  tenantCertificateStep,
];

export const stepTypes: ReadonlyMap<string, StepType> = new Map(ALL.map((s) => [s.type, s]));
