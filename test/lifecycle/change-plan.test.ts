/**
 * Moving a tenant to another plan runs again only what the plan touches:
 * its flags and limits, its Stripe subscription item (prorated) and its recorded plan,
 * on the MongoDB, Stripe and emulators the bot uses. A downgrade below the
 * tenant's active users waits for an approver, who is told the overage.
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { collectionNameFor } from '../../src/steps/tenant-data/layout.ts';
import { appPerTest, dealFor, stepOf, stepStates, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { resourcesOf, tenantOfJob } from '../support/tenant-resources.ts';

/** The steps a plan change touches, as the provisioning pipeline has them. */
const PIPELINE = `version: 1
steps:
  - id: database
    type: tenant_database
    config:
      tenantId: \${tenant.tenantId}
      database: \${tenant.databaseName}
      isolation: \${tenant.isolation}
  - id: feature_flags
    type: feature_flags
    needs: [database]
    config:
      tenantId: \${tenant.tenantId}
      database: \${tenant.databaseName}
      isolation: \${tenant.isolation}
      flags: \${tenant.features}
      limits: \${plan.limits}
  - id: billing
    type: billing
    needs: [feature_flags]
    config:
      tenantId: \${tenant.tenantId}
      customerName: \${intake.companyName}
      customerEmail: \${intake.adminEmail}
      metadata: \${tenant.billingMetadata}
      priceRef: \${plan.billing.priceRef}
      trialDays: \${plan.billing.trialDays}
      contractStartDate: \${intake.contractStartDate}
      meters: \${plan.billing.meters}
`;

const DANA = person('dana.admin', 'admin');
const SAM = person('sam.approver', 'approver');

async function liveStarterTenant(app: TestApp): Promise<{ slug: string; jobId: string }> {
  const { job } = await app.service.provision(dealFor({ featureOverrides: { data_export: false } }), REQUESTER);
  await waitForStatus(app, job.jobId, ['live']);
  await waitForRecord(app, job.jobId);
  return { slug: job.tenant.slug, jobId: job.jobId };
}

/** The limits in the tenant's configuration record, where the product reads them. */
async function limitsOf(app: TestApp, provisioningJobId: string): Promise<unknown> {
  const { tenant } = await tenantOfJob(app, provisioningJobId);
  const mongo = new MongoClient(app.config.mongoUri);
  try {
    const configs = mongo
      .db(tenant.databaseName)
      .collection<{ _id: string; limits?: unknown }>(collectionNameFor(tenant.isolation, tenant.tenantId, 'tenant_config'));
    return (await configs.findOne({ _id: tenant.tenantId }))?.limits;
  } finally {
    await mongo.close();
  }
}

const STARTER_LIMITS = { users: 10, storage_gb: 50, api_calls_per_day: 10_000 };
const GROWTH_LIMITS = { users: 100, storage_gb: 500, api_calls_per_day: 100_000 };

/** Gives the tenant `count` active users (and one deactivated), as the product would. */
async function addUsers(app: TestApp, provisioningJobId: string, count: number): Promise<void> {
  const { tenant } = await tenantOfJob(app, provisioningJobId);
  const mongo = new MongoClient(app.config.mongoUri);
  try {
    const users = mongo.db(tenant.databaseName).collection(collectionNameFor(tenant.isolation, tenant.tenantId, 'users'));
    await users.insertMany([
      ...Array.from({ length: count }, (_, i) => ({ email: `user${i}@acme.example`, active: true })),
      { email: 'left@acme.example', active: false },
    ]);
  } finally {
    await mongo.close();
  }
}

describe('changing plans', () => {
  const start = appPerTest();

  it('an upgrade changes exactly the plan’s flags and limits and swaps the subscription item with proration; rolling it back puts all back', async () => {
    const app = await start({ pipeline: PIPELINE, emulators: true });
    const { slug, jobId } = await liveStarterTenant(app);
    const before = await resourcesOf(app, jobId);
    expect(app.emulators?.stripe.liveSubscriptionsFor(`tnt_${slug}`).map((s) => s.priceIds)).toEqual([['price_starter_monthly']]);
    expect(await limitsOf(app, jobId)).toEqual(STARTER_LIMITS);

    const { job } = await app.service.lifecycle.changePlan(slug, 'growth', DANA, { reason: 'signed the growth order form' });
    expect(job.steps.map((s) => s.id)).toEqual(['entitlements', 'billing', 'sso', 'tenant_status']);
    const done = await waitForStatus(app, job.jobId, ['live', 'failed']);
    // Growth has SSO: the change sets it up in Okta (test/lifecycle/change-plan-sso.test.ts tells that story).
    expect(stepStates(done)).toEqual({ entitlements: 'succeeded', billing: 'succeeded', sso: 'succeeded', tenant_status: 'succeeded' });
    // The new plan's limits, so the product lets 100 users in and drift compares against growth.
    expect(await limitsOf(app, jobId)).toEqual(GROWTH_LIMITS);

    const after = await resourcesOf(app, jobId);
    const changed = Object.keys(after.features ?? {}).filter((flag) => after.features?.[flag] !== before.features?.[flag]);
    // Growth adds SSO, the audit log and analytics; the deal's own override (no data export) stays.
    expect(changed.sort()).toEqual(['advanced_analytics', 'audit_log', 'sso']);
    expect(after.features?.['data_export']).toBe(false);
    const [subscription] = app.emulators?.stripe.liveSubscriptionsFor(`tnt_${slug}`) ?? [];
    expect(subscription).toMatchObject({
      priceIds: ['price_growth_annual'],
      prorations: [{ fromPrice: 'price_starter_monthly', toPrice: 'price_growth_annual' }],
    });
    expect(stepOf(done, 'billing').facts).toEqual([{ label: 'Billing subscription', value: subscription?.id }]);
    expect(await app.service.lifecycle.tenant(slug)).toMatchObject({ status: 'live', planId: 'growth' });

    await app.service.rollback(job.jobId, DANA, 'order form was not countersigned');
    await waitForStatus(app, job.jobId, ['rolled_back']);
    expect((await resourcesOf(app, jobId)).features).toEqual(before.features);
    expect(await limitsOf(app, jobId)).toEqual(STARTER_LIMITS);
    expect(app.emulators?.stripe.liveSubscriptionsFor(`tnt_${slug}`).map((s) => s.priceIds)).toEqual([['price_starter_monthly']]);
    expect((await app.service.lifecycle.tenant(slug)).planId).toBeUndefined();
  });

  it('a downgrade below the tenant’s active users waits for an approver, naming the overage', async () => {
    const app = await start({ pipeline: PIPELINE, emulators: true });
    const { slug, jobId } = await liveStarterTenant(app);
    const up = await app.service.lifecycle.changePlan(slug, 'growth', DANA, { reason: 'upgrade first' });
    await waitForStatus(app, up.job.jobId, ['live']);
    await waitForRecord(app, up.job.jobId);
    await addUsers(app, jobId, 30);

    const down = await app.service.lifecycle.changePlan(slug, 'starter', DANA, { reason: 'renewal on starter' });
    const parked = await waitForStatus(app, down.job.jobId, ['awaiting_approval']);
    expect(stepOf(parked, 'approval_gate').waitingFor).toBe('Downgrade below current usage: 30 active users, the Starter plan allows 10 (20 over)');
    await app.service.approve(slug, SAM);
    await waitForStatus(app, down.job.jobId, ['live']);
    expect(await app.service.lifecycle.tenant(slug)).toMatchObject({ planId: 'starter' });
    expect(await limitsOf(app, jobId)).toEqual(STARTER_LIMITS);
    expect(app.emulators?.stripe.liveSubscriptionsFor(`tnt_${slug}`).map((s) => s.priceIds)).toEqual([['price_starter_monthly']]);
  });

  it('refuses an unknown plan naming the field, and the plan the tenant is already on', async () => {
    const app = await start({ pipeline: PIPELINE, emulators: true });
    const { slug } = await liveStarterTenant(app);
    await expect(app.service.lifecycle.changePlan(slug, 'platinum', DANA, { reason: 'upsell' })).rejects.toMatchObject({
      problems: [{ field: 'plan', message: 'unknown plan "platinum" (plans: starter, growth, enterprise)' }],
    });
    await expect(app.service.lifecycle.changePlan(slug, 'starter', DANA, { reason: 'same' })).rejects.toThrow(
      `${slug} is already on the Starter plan`,
    );
  });
});
