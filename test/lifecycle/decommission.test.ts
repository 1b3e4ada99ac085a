/**
 * Decommissioning a tenant on the real integrations: always approved first,
 * a grace period with reminders in the trail (cancelling then touches
 * nothing), an export of its data, then every resource removed by the
 * provisioning job's own rollback. What is left: the export and the
 * decommissioned record with its trail; the slug stays reserved. And in
 * Stripe, honestly, the customer with its subscription set to cancel at the
 * end of the period it paid for: still active until then, when Stripe ends it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { format } from 'date-fns/format';
import Stripe from 'stripe';
import { extract } from 'tar';
import { describe, expect, it } from 'vitest';
import { LOCAL_STRIPE_WEBHOOK_SECRET } from '../../src/config.ts';
import { billingTruth } from '../../src/domain/entitlements.ts';
import { appPerTest, auditOf, dealFor, stepOf, waitForRecord, waitForStatus, waitForStep, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { putInTenantBucket, resourcesOf } from '../support/tenant-resources.ts';

const DANA = person('dana.approver', 'approver');
const SAM = person('sam.approver', 'approver');

/** A growth tenant (SSO on, shared database), live on every integration. */
async function liveTenant(app: TestApp): Promise<{ slug: string; jobId: string; deal: Record<string, unknown> }> {
  const deal = dealFor({ plan: 'growth', companyName: 'Soylent Corp', contractValue: 60_000 });
  const { job } = await app.service.provision(deal, REQUESTER);
  await waitForStatus(app, job.jobId, ['live'], 60_000);
  await waitForRecord(app, job.jobId);
  return { slug: job.tenant.slug, jobId: job.jobId, deal };
}

describe('decommissioning', () => {
  const start = appPerTest();

  it('after approval and the grace period, exports the data and leaves every integration empty of the tenant but its record and its paid-up subscription', async () => {
    const exports = mkdtempSync(path.join(tmpdir(), 'exports-'));
    // About three seconds of grace, a reminder every second.
    const app = await start({
      env: { DECOMMISSION_GRACE_DAYS: '0.00004', DECOMMISSION_REMINDER_HOURS: '0.0003', EXPORTS_DIR: exports },
      serveWeb: true,
    });
    const { slug, jobId, deal } = await liveTenant(app);
    const before = await resourcesOf(app, jobId);
    expect(before.oktaApps).toHaveLength(1);
    expect(before.stripeCustomers).toHaveLength(1);
    expect(before.buckets).toHaveLength(1);
    expect(before.certificates).toHaveLength(1);
    // The customer's files: one in a folder, one whose key tries to climb out of the export.
    await putInTenantBucket(app, slug, 'invoices/2026-11.pdf', 'the November invoice');
    await putInTenantBucket(app, slug, '../../escape.txt', 'kept inside the archive');

    const { job } = await app.service.lifecycle.decommission(slug, DANA, { reason: 'contract ended' });
    expect(job.steps.map((s) => s.id)).toEqual(['approval_gate', 'grace_period', 'decommissioning', 'export', 'teardown', 'decommissioned']);
    await waitForStatus(app, job.jobId, ['awaiting_approval']);
    // From here Stripe tells the provisioner about subscription changes, as in production.
    const fake = app.emulators?.stripe;
    if (!fake || !app.web) throw new Error('this test needs the Stripe emulator and the HTTP server');
    fake.sendWebhooksTo({ url: `${await app.web.listen(0)}/webhooks/stripe`, secret: LOCAL_STRIPE_WEBHOOK_SECRET });
    await app.service.approve(slug, SAM);
    const done = await waitForStatus(app, job.jobId, ['live', 'failed'], 90_000);
    expect(done.status).toBe('live');

    expect(await resourcesOf(app, jobId)).toEqual({
      collections: {},
      features: null,
      dnsRecords: [],
      secrets: [],
      oktaGroups: [],
      oktaUsers: [],
      oktaApps: [],
      // The customer paid for its period: the subscription runs until its end, when Stripe cancels it; the customer stays for its invoices.
      stripeCustomers: before.stripeCustomers,
      stripeSubscriptions: [`${before.stripeSubscriptions[0]} until the end of its period`],
      // Issue 13's bucket and certificate (with its validation record) go too, by the same rollback.
      buckets: [],
      certificates: [],
      validationRecords: [],
    });
    expect(await app.service.lifecycle.tenant(slug)).toMatchObject({ slug, status: 'decommissioned', companyName: 'Soylent Corp' });

    // The export: one JSON-lines file per collection, with the seed data and the flags the tenant had.
    const archive = stepOf(done, 'export').outputs['archive'];
    expect(typeof archive).toBe('string');
    const unpacked = mkdtempSync(path.join(tmpdir(), 'unpacked-'));
    await extract({ file: String(archive), cwd: unpacked });
    const config = readFileSync(path.join(unpacked, 'tenant_config.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(config[0] ?? '{}')).toMatchObject({ _id: `tnt_${slug}`, features: before.features });
    expect(readFileSync(path.join(unpacked, 'roles.jsonl'), 'utf8').trim().split('\n').length).toBe(before.collections['roles']);
    expect(JSON.parse(readFileSync(path.join(unpacked, 'manifest.json'), 'utf8'))).toMatchObject({
      slug,
      exportedBy: job.jobId,
      collections: { 'roles.jsonl': before.collections['roles'] },
      bucket: { objects: 2 },
    });
    // The bucket's files were copied into the archive before the teardown deleted the bucket.
    expect(readFileSync(path.join(unpacked, 'bucket', 'invoices', '2026-11.pdf'), 'utf8')).toBe('the November invoice');
    expect(readFileSync(path.join(unpacked, 'bucket', '%2E%2E', '%2E%2E', 'escape.txt'), 'utf8')).toBe('kept inside the archive');

    // The trail: reminders during the grace period; the provisioning job says who removed its resources.
    const { text } = await auditOf(app, done);
    expect(text).toMatch(
      new RegExp(
        `Reminder: Soylent Corp \\(${slug}\\) will be decommissioned at .* To keep it, cancel the job: provisioner cancel ${slug} --reason …`,
      ),
    );
    expect(text).toContain(`Decommissioning job ${job.jobId} started a rollback: "decommissioning: contract ended"`);
    expect(text).toContain(`Decommissioned ${slug}`);

    // Until when the subscription runs, in the trail; Stripe's own record agrees.
    const stripe = new Stripe(fake.apiKey, { host: '127.0.0.1', port: fake.port, protocol: 'http' });
    const [subscription] = fake.liveSubscriptionsFor(`tnt_${slug}`);
    const live = await stripe.subscriptions.retrieve(subscription?.id ?? '');
    expect(live).toMatchObject({
      status: before.stripeSubscriptions[0],
      cancel_at_period_end: true,
      cancel_at: live.items.data[0]?.current_period_end,
    });
    expect(text).toContain(`Stripe subscription ${live.id} cancels at the end of its period, ${format((live.cancel_at ?? 0) * 1000, 'd MMMM yyyy')}`);
    // Stripe said so with customer.subscription.updated: recorded as still active until then, applied to nothing.
    const updated = (await app.billingStore.billingEventsOf(slug)).find((e) => e.sourceType === 'customer.subscription.updated');
    expect(updated?.subscription).toMatchObject({ id: live.id, state: before.stripeSubscriptions[0], endsAt: (live.cancel_at ?? 0) * 1000 });
    expect(billingTruth(await app.billingStore.billingEventsOf(slug)).subscription?.value.state).not.toBe('canceled');
    await expect
      .poll(async () => (await app.billingStore.billingEvent(`stripe:${updated?.sourceEventId}`))?.handled?.outcome, { timeout: 15_000 })
      .toMatch(
        new RegExp(
          `^recorded only: ${slug} is (being )?decommissioned, so billing changes are not applied to it; its subscription stays \\w+ until the end of its period, `,
        ),
      );

    // The slug stays reserved: a new deal cannot take it.
    await expect(app.service.provision({ ...deal, crmOpportunityId: '006NEWDEAL1' }, REQUESTER)).rejects.toMatchObject({
      problems: [{ field: 'slug', message: expect.stringContaining('decommissioned, the slug is reserved until') }],
    });
  }, 120_000);

  it('cancelled during the grace period, it touches nothing and frees the tenant for other changes', async () => {
    const app = await start({
      env: { DECOMMISSION_GRACE_DAYS: '1', DECOMMISSION_REMINDER_HOURS: '1', EXPORTS_DIR: mkdtempSync(path.join(tmpdir(), 'exports-')) },
    });
    const { slug, jobId } = await liveTenant(app);
    const before = await resourcesOf(app, jobId);
    const { job } = await app.service.lifecycle.decommission(slug, DANA, { reason: 'contract ended' });
    await waitForStatus(app, job.jobId, ['awaiting_approval']);
    await app.service.approve(slug, SAM);
    await waitForStep(app, job.jobId, 'grace_period', ['running']);
    await app.service.cancel(slug, DANA, 'they renewed after all');
    await waitForStatus(app, job.jobId, ['cancelled']);
    expect(await resourcesOf(app, jobId)).toEqual(before);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('live');
    const suspend = await app.service.lifecycle.suspend(
      slug,
      { door: 'api', id: 'stripe', name: 'Stripe', roles: new Set() },
      { reason: 'unpaid', requestKey: 'evt_9' },
    );
    await waitForStatus(app, suspend.job.jobId, ['live']);
    expect((await app.service.lifecycle.tenant(slug)).status).toBe('suspended');
  }, 120_000);
});
