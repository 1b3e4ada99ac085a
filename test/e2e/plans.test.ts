/**
 * The whole default pipeline against real servers (FerretDB, moto) and the
 * protocol-faithful emulators (Stripe, Okta, SMTP, webhooks), for a tenant on
 * each plan: an AE's deal goes live with every resource in place, then a full
 * rollback leaves no resource of that tenant anywhere.
 */
import { describe, expect, it } from 'vitest';
import { appPerTest, auditOf, dealFor, stepStates, waitForRecord, waitForStatus } from '../support/harness.ts';
import { resourcesOf, tenantOfJob } from '../support/tenant-resources.ts';
import { person, REQUESTER } from '../support/people.ts';

const startApp = appPerTest();

const SEEDED = { roles: 4, permission_sets: 5, workflow_templates: 2, reference_data: 2 };

type Case = { plan: string; isolation: 'shared' | 'dedicated'; sso: boolean; subscription: string; deal: Record<string, unknown> };

const CASES: Case[] = [
  { plan: 'starter', isolation: 'shared', sso: false, subscription: 'trialing', deal: { contractValue: 12_000 } },
  { plan: 'growth', isolation: 'shared', sso: true, subscription: 'active', deal: { contractValue: 60_000 } },
  { plan: 'enterprise', isolation: 'dedicated', sso: true, subscription: 'active', deal: { contractValue: 250_000 } },
];

describe('an AE closes a deal on each plan; the tenant goes live on real integrations, then is rolled back to nothing', () => {
  for (const c of CASES) {
    it(`${c.plan}: live with database, seed, DNS, secret, SSO, flags, billing, email and notices; rollback leaves nothing`, async () => {
      const app = await startApp();
      const deal = dealFor({ plan: c.plan, companyName: `Initech ${c.plan}`, ...c.deal });
      const { job } = await app.service.provision(deal, REQUESTER);
      if (c.isolation === 'dedicated') {
        // A dedicated database costs real money: an approver says yes first.
        await waitForStatus(app, job.jobId, ['awaiting_approval']);
        await app.service.approve(job.tenant.slug, person('sam.approver'));
      }
      const live = await waitForStatus(app, job.jobId, ['live', 'failed'], 60_000);
      expect(stepStates(live)).toEqual(
        expect.objectContaining({ database: 'succeeded', billing: 'succeeded', welcome_email: 'succeeded', cs_record: 'succeeded' }),
      );
      expect(live.status).toBe('live');

      const { tenant, adminEmail } = await tenantOfJob(app, job.jobId);
      expect(tenant.isolation).toBe(c.isolation);
      const made = await resourcesOf(app, job.jobId);
      expect(made.collections).toEqual({ ...SEEDED, tenant_config: 1 });
      expect(made.features?.['sso']).toBe(c.sso);
      expect(made.dnsRecords).toEqual([`CNAME edge.${app.config.tenant.baseDomain}`]);
      expect(made.secrets).toEqual([tenant.secretPath]);
      expect(made.oktaGroups).toEqual(c.sso ? [`tenant-${tenant.slug}-admins`] : []);
      expect(made.oktaUsers).toEqual(c.sso ? [adminEmail] : []);
      expect(made.oktaApps).toHaveLength(c.sso ? 1 : 0);
      expect(made.stripeCustomers).toHaveLength(1);
      expect(made.stripeSubscriptions).toEqual([c.subscription]);
      // The default residency (us) places the bucket and the certificate in us-east-1.
      expect(made.buckets).toEqual([`${app.config.tenant.pipeline?.['bucketPrefix']}-${tenant.slug}-us-east-1 in us-east-1`]);
      expect(made.certificates).toEqual(['ISSUED in us-east-1']);
      expect(made.validationRecords).toEqual([`_d930b28be6c5927595552b219965053e.${tenant.dnsName}`]);
      const emulators = app.emulators;
      const invitation = emulators?.smtp.messages().find((m) => m.to.includes(adminEmail));
      expect(invitation?.text).toContain(`https://${tenant.dnsName}`);
      expect(
        emulators?.webhooks
          .deliveries()
          .map((d) => d.path)
          .sort(),
      ).toEqual(['/cs-platform', '/slack-notice']);

      await app.service.rollback(job.tenant.slug, person('jane.ae'), 'the customer withdrew');
      const undone = await waitForStatus(app, job.jobId, ['rolled_back', 'rollback_failed'], 60_000);
      expect(undone.status).toBe('rolled_back');
      const left = await resourcesOf(app, job.jobId);
      expect(left).toEqual({
        collections: {},
        features: null,
        dnsRecords: [],
        secrets: [],
        oktaGroups: [],
        oktaUsers: [],
        oktaApps: [],
        stripeCustomers: [],
        stripeSubscriptions: [],
        buckets: [],
        certificates: [],
        validationRecords: [],
      });

      // The audit trail tells a non-engineer what happened, and holds no secret.
      await waitForRecord(app, job.jobId);
      const { text, job: stored } = await auditOf(app, job);
      expect(stored.status).toBe('rolled_back');
      expect(text).toContain('jane.ae started a rollback from the CLI: "the customer withdrew"');
      expect(text).toMatch(/Undone: Stripe subscription sub_\w+ on price_\w+ created for Initech/);
      expect(text).toMatch(new RegExp(`Rollback of ${job.tenant.slug} finished: \\d+ steps undone\\.`));
      expect(text).not.toMatch(/sk_test_|local-okta-token|databasePassword/);
    });
  }
});
