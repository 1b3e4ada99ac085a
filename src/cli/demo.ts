/**
 * `npm run demo`: provisions Acme Corp on the enterprise plan through the
 * whole sandbox pipeline on local services, approves the approval gate the
 * way an approver would, and prints the tenant's audit trail.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { compose } from '../compose.ts';
import type { Config } from '../config.ts';
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

/** The demo owns its own database and queue prefix and starts from a clean slate each run. */
async function resetDemoState(config: Config): Promise<void> {
  const redis = new Redis(config.redisUrl);
  await redis.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", 0, `${config.queuePrefix}:*`);
  await redis.quit();
  const mongo = new MongoClient(config.mongoUri);
  await mongo.db(config.mongoDb).dropDatabase();
  await mongo.close();
}

export async function runDemo(base: Config, print: (line: string) => void): Promise<number> {
  const config: Config = { ...base, mongoDb: 'provisioner_demo', queuePrefix: 'demo' };
  await resetDemoState(config);
  const app = await compose(config, { runWorkers: true });
  try {
    print(`Provisioning ${DEMO_DEAL.companyName} (${DEMO_DEAL.plan} plan, slug ${DEMO_DEAL.slug}) on the sandbox pipeline…\n`);
    const deal = { ...DEMO_DEAL, contractStartDate: new Date().toISOString().slice(0, 10) };
    const { job } = await app.service.provision(deal);
    const final = await follow(app, job.jobId, {
      print,
      waitThrough: ['awaiting_approval'],
      onWaiting: async () => {
        print('  ↳ In Slack an approver would click Approve in the thread; the demo approves as dana.approver in 1 s.');
        await sleep(1000);
        await app.service.approve(DEMO_DEAL.slug, { name: 'dana.approver' });
      },
    });
    print('');
    jobText(final).forEach((l) => print(l));
    await waitForRecord(app.store, job.jobId, final.seq);
    const { lines } = await app.service.audit(DEMO_DEAL.slug);
    print(`\nAudit trail (what \`provisioner audit ${DEMO_DEAL.slug}\` shows):`);
    lines.forEach((l) => print(l));
    return final.status === 'live' ? 0 : 1;
  } finally {
    await app.close();
  }
}

async function waitForRecord(store: { getJob(id: string): Promise<{ view: { seq: number } } | null> }, jobId: string, seq: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const stored = await store.getJob(jobId);
    if (stored && stored.view.seq >= seq) return;
    await sleep(100);
  }
}
