/**
 * Single sign-on follows a plan change, on the Okta emulator: a customer who
 * upgrades to a plan with SSO can sign in with it (the admin group, the admin
 * and the app are set up as provisioning would); a tenant that already had
 * SSO keeps the very same app when the change is rolled back; a downgrade
 * switches the flag off and leaves Okta as it is, people included; and
 * decommissioning removes SSO that came with an upgrade, like any other.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appPerTest, auditOf, dealFor, stepOf, stepStates, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { repoPipelineOnly } from '../support/pipeline.ts';
import { resourcesOf } from '../support/tenant-resources.ts';

/** What a plan change touches (flags, billing) and the Okta setup, as the provisioning pipeline has them. */
const PIPELINE = repoPipelineOnly('database', 'feature_flags', 'billing', 'sso');
const DANA = person('dana.admin', 'admin');
const SAM = person('sam.approver', 'approver');
const ADMIN_EMAIL = 'it-admin@acme.example';

async function liveTenant(app: TestApp, deal: Record<string, unknown>): Promise<{ slug: string; jobId: string }> {
  const { job } = await app.service.provision(dealFor(deal), REQUESTER);
  await waitForStatus(app, job.jobId, ['live']);
  await waitForRecord(app, job.jobId);
  return { slug: job.tenant.slug, jobId: job.jobId };
}

/** The tenant's whole Okta setup as the emulator holds it: ids, states, memberships and assignments. */
function oktaOf(app: TestApp, slug: string, companyName: string) {
  const okta = app.emulators?.okta;
  if (!okta) throw new Error('this test needs the Okta emulator');
  return {
    groups: okta.groupsNamed(`tenant-${slug}-`).map((g) => ({ id: g.id, memberIds: g.memberIds })),
    admins: okta.usersWithLogin(ADMIN_EMAIL).map((u) => ({ id: u.id, status: u.status })),
    apps: okta.appsLabelled(companyName).map((a) => ({ id: a.id, status: a.status, groupIds: a.groupIds })),
  };
}

async function changePlan(app: TestApp, slug: string, plan: string, reason: string): Promise<string> {
  const { job } = await app.service.lifecycle.changePlan(slug, plan, DANA, { reason });
  const done = await waitForStatus(app, job.jobId, ['live', 'failed']);
  expect(stepStates(done)).toEqual({ entitlements: 'succeeded', billing: 'succeeded', sso: 'succeeded', tenant_status: 'succeeded' });
  await waitForRecord(app, job.jobId);
  return job.jobId;
}

async function rollBack(app: TestApp, jobId: string, reason: string): Promise<void> {
  await app.service.rollback(jobId, DANA, reason);
  await waitForStatus(app, jobId, ['rolled_back']);
}

describe('single sign-on on a plan change', () => {
  const start = appPerTest();

  it('a starter tenant upgraded to growth can sign in with SSO: admin group, admin and app set up in Okta, flag on; rolling back removes them', async () => {
    const app = await start({ pipeline: PIPELINE, emulators: true });
    const { slug, jobId } = await liveTenant(app, { companyName: 'Hooli Upgrade' });
    expect(oktaOf(app, slug, 'Hooli Upgrade')).toEqual({ groups: [], admins: [], apps: [] });

    const upgrade = await changePlan(app, slug, 'growth', 'signed the growth order form');
    const okta = oktaOf(app, slug, 'Hooli Upgrade');
    const [group] = okta.groups;
    const [admin] = okta.admins;
    expect(okta.groups).toHaveLength(1);
    expect(okta.admins).toEqual([{ id: expect.any(String), status: 'PROVISIONED' }]);
    expect(group?.memberIds).toEqual([admin?.id]);
    expect(okta.apps).toEqual([{ id: expect.any(String), status: 'ACTIVE', groupIds: [group?.id] }]);
    expect((await resourcesOf(app, jobId)).features?.['sso']).toBe(true);
    const view = await waitForStatus(app, upgrade, ['live']);
    expect(stepOf(view, 'sso').facts).toEqual([
      { label: 'Okta admin group', value: group?.id },
      { label: 'Okta app', value: okta.apps[0]?.id },
    ]);

    await rollBack(app, upgrade, 'order form was not countersigned');
    expect(oktaOf(app, slug, 'Hooli Upgrade')).toEqual({ groups: [], admins: [], apps: [] });
    expect((await resourcesOf(app, jobId)).features?.['sso']).toBe(false);
    const { text } = await auditOf(app, await waitForStatus(app, upgrade, ['rolled_back']));
    expect(text).toContain('Removed the Okta single sign-on this job set up for Hooli Upgrade');
  });

  it('a tenant that already had SSO keeps the very same group, admin and app when its plan change is rolled back', async () => {
    const app = await start({ pipeline: PIPELINE, emulators: true });
    // Starter, but the deal switched SSO on: provisioning set it up.
    const { slug } = await liveTenant(app, { companyName: 'Pied Piper SSO', featureOverrides: { sso: true } });
    const before = oktaOf(app, slug, 'Pied Piper SSO');
    expect(before.apps).toEqual([{ id: expect.any(String), status: 'ACTIVE', groupIds: [before.groups[0]?.id] }]);

    const upgrade = await changePlan(app, slug, 'growth', 'more seats');
    expect(oktaOf(app, slug, 'Pied Piper SSO')).toEqual(before);
    await rollBack(app, upgrade, 'wrong tenant');
    expect(oktaOf(app, slug, 'Pied Piper SSO')).toEqual(before);
    const { text } = await auditOf(app, await waitForStatus(app, upgrade, ['rolled_back']));
    expect(text).toContain("Kept Pied Piper SSO's Okta single sign-on as it was");
  });

  it('a downgrade switches SSO off and leaves Okta as it is; upgrading again reuses that setup, and rolling that back keeps it', async () => {
    const app = await start({ pipeline: PIPELINE, emulators: true });
    const { slug, jobId } = await liveTenant(app, { companyName: 'Initech Down', plan: 'growth' });
    const before = oktaOf(app, slug, 'Initech Down');
    expect(before.apps).toHaveLength(1);

    const downgrade = await changePlan(app, slug, 'starter', 'renewal on starter');
    expect((await resourcesOf(app, jobId)).features?.['sso']).toBe(false);
    expect(oktaOf(app, slug, 'Initech Down')).toEqual(before);
    const { text } = await auditOf(app, await waitForStatus(app, downgrade, ['live']));
    expect(text).toContain('Okta left as it is for Initech Down: the plan does not include SSO');

    const upgrade = await changePlan(app, slug, 'growth', 'back on growth');
    expect((await resourcesOf(app, jobId)).features?.['sso']).toBe(true);
    expect(oktaOf(app, slug, 'Initech Down')).toEqual(before);
    await rollBack(app, upgrade, 'they stay on starter after all');
    expect(oktaOf(app, slug, 'Initech Down')).toEqual(before);
  });

  it('decommissioning a tenant whose SSO came with an upgrade removes that SSO too', async () => {
    const exports = mkdtempSync(join(tmpdir(), 'exports-'));
    const app = await start({ pipeline: PIPELINE, emulators: true, env: { DECOMMISSION_GRACE_DAYS: '0.00001', EXPORTS_DIR: exports } });
    const { slug } = await liveTenant(app, { companyName: 'Vandelay Gone' });
    await changePlan(app, slug, 'growth', 'signed the growth order form');
    expect(oktaOf(app, slug, 'Vandelay Gone').apps).toHaveLength(1);

    const { job } = await app.service.lifecycle.decommission(slug, DANA, { reason: 'contract ended' });
    await waitForStatus(app, job.jobId, ['awaiting_approval']);
    await app.service.approve(slug, SAM);
    expect((await waitForStatus(app, job.jobId, ['live', 'failed'], 60_000)).status).toBe('live');
    expect(oktaOf(app, slug, 'Vandelay Gone')).toEqual({ groups: [], admins: [], apps: [] });
  });
});
