/**
 * `npm run demo`: provisions Acme Corp on the enterprise plan through the
 * real pipeline, against local stand-ins for every outside system (FerretDB
 * and moto started by scripts/with-services.ts; Stripe, Okta, SMTP and the
 * webhook receivers started here), approves the approval gate the way an
 * approver would, shows what each system now holds and prints the audit trail.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MONGO_CLIENT_OPTIONS } from '../adapters/mongo-client.ts';
import { MongoClient } from 'mongodb';
import { compose, type App } from '../compose.ts';
import { loadConfigWith, type Config } from '../config.ts';
import type { Identity } from '../domain/policy.ts';
import { startLocalEmulators, type LocalEmulators } from '../emulators/emulators.ts';
import { follow } from './follow.ts';
import { jobText } from './render.ts';

const DEMO_DEAL = {
  companyName: 'Acme Corp',
  slug: 'acme',
  adminEmail: 'it-admin@acme.example',
  plan: 'enterprise',
  contractValue: 250_000,
  dataResidency: 'us',
  featureOverrides: { advanced_analytics: true },
  crmOpportunityId: '006DEMOACME0001',
  requestedBy: 'jane.ae',
};

/** The demo owns its queue prefix, its database and the demo tenant's data, and starts from a clean slate each run. */
async function resetDemoState(config: Config): Promise<void> {
  const redis = new Redis(config.redisUrl);
  await redis.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", 0, `${config.queuePrefix}:*`);
  await redis.quit();
  const mongo = new MongoClient(config.mongoUri, MONGO_CLIENT_OPTIONS);
  await mongo.db(config.mongoDb).dropDatabase();
  await mongo.db(`tenant_${DEMO_DEAL.slug}`).dropDatabase();
  await mongo.close();
}

/** With `serve`, the control room stays up after the demo, with its job in it, until `untilStopped` resolves. */
export type DemoServing = { untilStopped(): Promise<void> };

/** `servers`: the variables naming servers the CLI started for the demo (none when the environment names them). */
export async function runDemo(
  base: Config,
  print: (line: string) => void,
  servers: Record<string, string> = {},
  serve?: DemoServing,
): Promise<number> {
  const emulators = await startLocalEmulators(base);
  const config = loadConfigWith({ ...servers, ...emulators.env, PROVISIONER_PROFILE: 'local', MONGODB_DB: 'provisioner_demo', QUEUE_PREFIX: 'demo' });
  try {
    await resetDemoState(config);
    const app = await compose(config, { runWorkers: true, serveWeb: serve !== undefined });
    try {
      const { code, jobId } = await provisionAcme(app, emulators, print);
      if (!serve || !app.web) {
        print('\nSee this job in the web control room: npm run demo -- --serve');
        return code;
      }
      const url = await app.web.listen();
      print(`\nControl room: ${url}/admin/jobs/${encodeURIComponent(jobId)}`);
      print(`Sign in once with: ${await app.web.signInLink(config.operator)}`);
      print('Ctrl-C to stop.');
      await serve.untilStopped();
      return code;
    } finally {
      await app.close();
    }
  } finally {
    await emulators.close();
  }
}

/** The demo's cast, acting from the CLI as a script would: an AE who asks, an approver who says yes. */
const DEMO_PEOPLE: Record<'ae' | 'approver', Identity> = {
  ae: { door: 'cli', id: 'jane.ae', name: 'jane.ae', roles: new Set(['requester']) },
  approver: { door: 'cli', id: 'dana.approver', name: 'dana.approver', roles: new Set(['approver']) },
};

async function provisionAcme(app: App, emulators: LocalEmulators, print: (line: string) => void): Promise<{ code: number; jobId: string }> {
  print(`Provisioning ${DEMO_DEAL.companyName} (${DEMO_DEAL.plan} plan, slug ${DEMO_DEAL.slug}) on local emulators…\n`);
  const deal = { ...DEMO_DEAL, contractStartDate: new Date().toISOString().slice(0, 10) };
  const { job } = await app.service.provision(deal, DEMO_PEOPLE.ae);
  const final = await follow(app, job.jobId, {
    print,
    waitThrough: ['awaiting_approval'],
    onWaiting: async () => {
      print('  ↳ In Slack an approver would click Approve in the thread; the demo approves as dana.approver in 1 s.');
      await sleep(1000);
      await app.service.approve(DEMO_DEAL.slug, DEMO_PEOPLE.approver);
    },
  });
  print('');
  for (const l of jobText(final)) print(l);
  print('\nWhat the emulators now hold for the tenant:');
  for (const l of emulatorSummary(emulators, `tnt_${DEMO_DEAL.slug}`)) print(`  ${l}`);
  await waitForRecord(app.store, job.jobId, final.seq);
  const { lines } = await app.service.audit(DEMO_DEAL.slug);
  print(`\nAudit trail (what \`provisioner audit ${DEMO_DEAL.slug}\` shows):`);
  for (const l of lines) print(l);
  return { code: final.status === 'live' ? 0 : 1, jobId: job.jobId };
}

function emulatorSummary(emulators: LocalEmulators, tenantId: string): string[] {
  const customers = emulators.stripe.customersFor(tenantId);
  const subscriptions = emulators.stripe.liveSubscriptionsFor(tenantId);
  const group = emulators.okta.groupsNamed(`tenant-${DEMO_DEAL.slug}-`)[0];
  const apps = emulators.okta.appsLabelled(DEMO_DEAL.companyName);
  const email = emulators.smtp.messages().find((m) => m.to.includes(DEMO_DEAL.adminEmail));
  return [
    `Stripe: ${customers.map((c) => c.id).join(', ') || 'no customer'}; ${subscriptions.map((s) => `${s.id} (${s.status}, ${s.priceIds.join(' + ')})`).join(', ') || 'no subscription'}`,
    `Okta: group ${group?.name ?? '(none)'} with ${group?.memberIds.length ?? 0} member(s); ${apps.map((a) => `${a.signOnMode} app "${a.label}"`).join(', ') || 'no app'}`,
    `Email to ${DEMO_DEAL.adminEmail}: ${email ? `"${email.subject}"` : 'none'}`,
    `Webhooks: ${
      emulators.webhooks
        .deliveries()
        .map((d) => d.path)
        .join(', ') || 'none'
    }`,
  ];
}

async function waitForRecord(store: { getJob(id: string): Promise<{ view: { seq: number } } | null> }, jobId: string, seq: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const stored = await store.getJob(jobId);
    if (stored && stored.view.seq >= seq) return;
    await sleep(100);
  }
}
