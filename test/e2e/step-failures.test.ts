/**
 * Each real step type meets its vendor misbehaving, through the real engine,
 * the real pipeline (retry waits shortened) and the protocol-faithful
 * emulators: a passing failure is retried and the tenant still goes live with
 * exactly one of each resource; a lasting one stops the step with a message a
 * person can act on, in the audit trail.
 *
 * The Stripe SDK (2 retries) and the AWS SDK (3 attempts) retry 5xx and
 * throttling themselves before the step sees an error. A single such failure
 * is absorbed there and never reaches the audit trail (the first Stripe case
 * shows it); to make the engine retry, the cases inject one failure more than
 * the SDK retries. Okta (SDK retries off), SMTP and webhooks fail the step at
 * the first error.
 */
import { describe, expect, it } from 'vitest';
import type { JobStatus, StepState } from '../../src/domain/job.ts';
import type { LocalEmulators } from '../../src/emulators/emulators.ts';
import { startWebhookSink } from '../../src/emulators/webhook-sink.ts';
import { appPerTest, auditOf, dealFor, stepStates, stepsById, type TestApp } from '../support/harness.ts';
import { gatePerTest, quickPipeline, settledJob, type AwsFaultGate, type PipelineEdit } from '../support/step-failures.ts';
import { resourcesOf } from '../support/tenant-resources.ts';
import { REQUESTER } from '../support/people.ts';

const startGate = gatePerTest(); // registered first, so it closes after the app
const startApp = appPerTest();

const ADMIN = 'it-admin@acme.example';

type Setup = { app: TestApp; emulators: LocalEmulators; aws: AwsFaultGate | undefined };
type Outcome = Setup & { jobId: string; slug: string; verboseAudit: string; states: Record<string, string>; outputs: Record<string, unknown> };

type Case = {
  story: string;
  plan?: 'starter' | 'growth';
  edits?: PipelineEdit[];
  env?: Record<string, string>;
  /** Put the fault gate (and Route 53 proxy) between the app and moto. */
  aws?: boolean;
  inject?: (s: Setup) => void;
  status: JobStatus;
  step: [id: string, state: StepState];
  audit: (string | RegExp)[];
  notInAudit?: string[];
  verify: (o: Outcome) => Promise<void> | void;
};

function gateOf(s: Setup): AwsFaultGate {
  if (!s.aws) throw new Error('this case needs aws: true');
  return s.aws;
}

/** The tenant as the resource reader needs it; both plans used here share the tenants database. */
function resources(o: Outcome) {
  return resourcesOf(o.app, o.jobId);
}

const customers = (o: Outcome) => o.emulators.stripe.customersFor(`tnt_${o.slug}`);
const retried = (label: string, attempt: string) =>
  new RegExp(`Step ${label} hit a temporary problem \\(.+\\); trying again \\(attempt ${attempt}\\)`);

const CASES: Case[] = [
  {
    story: "Stripe's customer API answers 500: the billing step retries and the tenant goes live with one customer",
    inject: (s) => s.emulators.stripe.failNext(1, 500, '/v1/customers'),
    status: 'live',
    step: ['billing', 'succeeded'],
    audit: ['Step billing hit a temporary problem (Stripe failed the lookup request (HTTP 500)', 'trying again (attempt 2 of 6)'],
    verify: (o) => {
      expect(customers(o)).toHaveLength(1);
      expect(o.emulators.stripe.liveSubscriptionsFor(`tnt_${o.slug}`)).toHaveLength(1);
    },
  },
  {
    story: "the plan's Stripe price is misspelt (price_growth_anual): billing fails for good, the trail names the price, and nobody is charged",
    plan: 'growth',
    edits: [{ stepId: 'billing', path: ['config', 'priceRef'], value: 'price_growth_anual' }],
    status: 'failed',
    step: ['billing', 'failed'],
    audit: ["Step billing failed: Stripe has no price 'price_growth_anual'", 'check billing.priceRef'],
    notInAudit: ['temporary problem'],
    verify: (o) => {
      expect(o.emulators.stripe.liveSubscriptionsFor(`tnt_${o.slug}`)).toEqual([]);
      // The price is checked before anything is created.
      expect(customers(o)).toEqual([]);
    },
  },
  {
    story: 'Okta rate-limits the admin group call once (429): the SSO step retries and the tenant goes live with one admin group',
    plan: 'growth',
    inject: (s) => s.emulators.okta.failNext(1, 429, '/api/v1/groups'),
    status: 'live',
    step: ['sso', 'succeeded'],
    audit: [retried('sso', '2 of 3'), 'Okta rate limit reached while'],
    verify: (o) => {
      expect(o.emulators.okta.groupsNamed(`tenant-${o.slug}-`).map((g) => g.name)).toEqual([`tenant-${o.slug}-admins`]);
      expect(o.emulators.okta.usersWithLogin(ADMIN)).toHaveLength(1);
    },
  },
  {
    story: "the bot's Okta API token is wrong: SSO fails for good, the trail says to fix the token without showing it",
    plan: 'growth',
    env: { OKTA_API_TOKEN: 'wrong-token' },
    status: 'failed',
    step: ['sso', 'failed'],
    audit: ["Step sso failed: Okta rejected the bot's API token", 'check the Okta API token'],
    notInAudit: ['wrong-token', 'temporary problem'],
    verify: (o) => expect(o.emulators.okta.groupsNamed(`tenant-${o.slug}-`)).toEqual([]),
  },
  {
    story: 'Route 53 throttles the record change: the DNS step retries and the tenant goes live with its record',
    aws: true,
    inject: (s) => gateOf(s).failNext('route53', 1),
    status: 'live',
    step: ['dns', 'succeeded'],
    audit: ['Step dns hit a temporary problem (Route 53 is throttling requests (Throttling); will try again); trying again (attempt 2 of 3)'],
    verify: async (o) => expect((await resources(o)).dnsRecords).toEqual([`CNAME edge.${o.app.config.tenant.baseDomain}`]),
  },
  {
    story: 'Route 53 reports the change PENDING for two polls: the DNS step keeps polling GetChange until INSYNC, then the tenant goes live',
    aws: true,
    inject: (s) => gateOf(s).proxy.setPendingPolls(2),
    status: 'live',
    step: ['dns', 'succeeded'],
    audit: [/DNS record acme-\w+\.\S+ \(CNAME\) points at edge\./],
    verify: async (o) => {
      expect(o.verboseAudit).toContain('Step dns is waiting for its operation to finish');
      const changeId = String(o.outputs['changeId']);
      expect(gateOf(o).proxy.changeIds()).toContain(changeId);
      expect(gateOf(o).proxy.pollsOf(changeId)).toBeGreaterThanOrEqual(3);
      expect((await resources(o)).dnsRecords).toHaveLength(1);
    },
  },
  {
    story: 'the configured hosted zone does not exist: DNS fails for good and the trail names the zone and the setting',
    env: { ROUTE53_HOSTED_ZONE_ID: 'Z0NOSUCHZONE42' },
    status: 'failed',
    step: ['dns', 'failed'],
    audit: ['Step dns failed: Route 53 has no hosted zone Z0NOSUCHZONE42 (check ROUTE53_HOSTED_ZONE_ID)'],
    notInAudit: ['temporary problem'],
    verify: async (o) => expect((await resources(o)).dnsRecords).toEqual([]),
  },
  {
    story: 'Secrets Manager answers 500: the secrets step retries and the tenant goes live with one secret',
    aws: true,
    inject: (s) => gateOf(s).failNext('secretsmanager', 1, 500),
    status: 'live',
    step: ['secrets', 'succeeded'],
    audit: [
      'Step secrets hit a temporary problem (Secrets Manager had a temporary problem (HTTP 500 InternalServiceError)); trying again (attempt 2 of 3)',
    ],
    verify: async (o) => expect((await resources(o)).secrets).toEqual([`${o.app.config.tenant.secretPrefix}/${o.slug}`]),
  },
  {
    story: 'the mail server answers 421 once: the welcome email is retried and the admin gets exactly one invitation',
    inject: (s) => s.emulators.smtp.failNext(1, 421),
    status: 'live',
    step: ['welcome_email', 'succeeded'],
    audit: [retried('welcome email', '2 of 3'), 'mail server answered 421'],
    verify: (o) => expect(o.emulators.smtp.messages().filter((m) => m.to.includes(ADMIN))).toHaveLength(1),
  },
  {
    story: "the mail server refuses the admin's address (550): the tenant still goes live, the welcome email fails and the trail carries the refusal",
    inject: (s) => s.emulators.smtp.failNext(1, 550),
    status: 'live',
    step: ['welcome_email', 'failed'],
    audit: [
      `Step welcome email failed: the mail server refused the address ${ADMIN} (550 Requested action not taken: mailbox unavailable); check the admin email address in the intake`,
    ],
    notInAudit: ['temporary problem'],
    verify: (o) => expect(o.emulators.smtp.messages()).toEqual([]),
  },
  {
    story: 'a webhook receiver answers 503 once: the notice is retried and each of the two notices arrives exactly once',
    inject: (s) => s.emulators.webhooks.failNext(1, 503),
    status: 'live',
    step: ['cs_record', 'succeeded'],
    audit: [
      /Step (slack notice|cs record) hit a temporary problem \(webhook 127\.0\.0\.1:\d+ answered HTTP 503\); trying again \(attempt 2 of [23]\)/,
    ],
    verify: (o) => {
      expect(
        o.emulators.webhooks
          .deliveries()
          .map((d) => d.path)
          .sort(),
      ).toEqual(['/cs-platform', '/slack-notice']);
      expect(o.states['slack_notice']).toBe('succeeded');
    },
  },
];

describe('a vendor misbehaves during provisioning: passing failures are retried, lasting ones explain themselves', () => {
  for (const c of CASES) {
    it(c.story, async () => {
      const aws = c.aws ? await startGate() : undefined;
      const env = { ...(aws ? { AWS_ENDPOINT_URL: aws.url } : {}), ...c.env };
      const app = await startApp({ pipeline: quickPipeline(c.edits), emulators: true, env });
      const emulators = app.emulators;
      if (!emulators) throw new Error('the app started without emulators');
      c.inject?.({ app, emulators, aws });

      const deal = dealFor({ plan: c.plan ?? 'starter', adminEmail: ADMIN });
      const { job } = await app.service.provision(deal, REQUESTER);
      const view = await settledJob(app, job.jobId);
      const [stepId, state] = c.step;
      expect({ status: view.status, [stepId]: stepsById(view)[stepId]?.state }).toEqual({ status: c.status, [stepId]: state });

      const { text } = await auditOf(app, job);
      for (const line of c.audit) {
        if (typeof line === 'string') expect(text).toContain(line);
        else expect(text).toMatch(line);
      }
      for (const absent of c.notInAudit ?? []) expect(text).not.toContain(absent);
      const verbose = await auditOf(app, job, { verbose: true });
      const outputs = stepsById(view)[stepId]?.outputs ?? {};
      await c.verify({ app, emulators, aws, jobId: job.jobId, slug: job.tenant.slug, verboseAudit: verbose.text, states: stepStates(view), outputs });
    });
  }

  it('a pipeline that pins seed data 2099.1.0, never published, is refused at startup, naming the version and the published ones', async () => {
    const startup = startApp({
      pipeline: quickPipeline([{ stepId: 'seed_data', path: ['config', 'seedVersion'], value: '2099.1.0' }]),
      emulators: true,
    });
    await expect(startup).rejects.toThrow('Seed version "2099.1.0" is not published (available: 2026.06.0, 2026.11.0)');
  });

  it("the flags service refuses the tenant's flags (HTTP 400): feature flags fail for good, billing never starts, and the trail names the service", async () => {
    const flagsService = await startWebhookSink();
    try {
      flagsService.failNext(1, 400);
      const app = await startApp({
        pipeline: quickPipeline([{ stepId: 'feature_flags', path: ['config', 'webhookUrl'], value: `${flagsService.url}/flags` }]),
        emulators: true,
      });
      const { job } = await app.service.provision(dealFor({ adminEmail: ADMIN }), REQUESTER);
      const view = await settledJob(app, job.jobId);
      expect({ status: view.status, ...stepStates(view) }).toMatchObject({ status: 'failed', feature_flags: 'failed', billing: 'pending' });
      const { text } = await auditOf(app, job);
      expect(text).toContain(`flags service ${new URL(flagsService.url).host} answered HTTP 400 to the feature flag push`);
      expect(app.emulators?.stripe.customersFor(`tnt_${job.tenant.slug}`)).toEqual([]);
    } finally {
      await flagsService.close();
    }
  });
});
