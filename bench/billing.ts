/**
 * Billing events to applied flags: 100 live tenants each receive a Stripe
 * subscription event (an upgrade to growth) at once, signed as Stripe signs
 * (the SDK's generateTestHeaderString), on the real server. Per event: the
 * webhook's answer (ack: the event durably recorded), and from sending it to
 * the tenant_entitlements step of its sync_entitlements job finishing (the
 * flags, limits and billing state written). p50 and p99.
 */
import { copyFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import Stripe from 'stripe';
import { compose, type App } from '../src/compose.ts';
import { LOCAL_STRIPE_WEBHOOK_SECRET, loadConfig } from '../src/config.ts';
import { REQUESTER } from '../test/support/people.ts';
import { fixed, manifestsDirWith, percentile, pool, ROOT, starterDeal } from './lib.ts';

export type BillingFigures = { tenants: number; ack: { p50: number; p99: number }; applied: { p50: number; p99: number }; allAppliedMs: number };

type Deps = {
  runId: string;
  mongo: MongoClient;
  log(line?: string): void;
  track(db: string, manifestsDir: string): void;
  onError(err: unknown): void;
};

const TENANTS = 100;
const PIPELINE = 'version: 1\nsteps:\n  - id: database\n    type: sandbox\n    config: { resource: "${tenant.databaseName}", summary: done }\n';

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`billing bench: ${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function billingScenario(deps: Deps): Promise<BillingFigures> {
  const manifestsDir = manifestsDirWith(PIPELINE);
  // The lifecycle pipelines (sync_entitlements) and the billing feature map, as the repository has them.
  cpSync(join(ROOT, 'manifests/lifecycle'), join(manifestsDir, 'lifecycle'), { recursive: true });
  copyFileSync(join(ROOT, 'manifests/billing-features.yaml'), join(manifestsDir, 'billing-features.yaml'));
  const db = `bench_billing_${deps.runId}`;
  deps.track(db, manifestsDir);
  const env = {
    ...process.env,
    QUEUE_PREFIX: `bench${deps.runId}bill`,
    MONGODB_DB: db,
    WORKER_CONCURRENCY: '50',
    MANIFESTS_DIR: manifestsDir,
    SEED_MANIFESTS_DIR: join(ROOT, 'seed-manifests'),
    SHARED_DATABASE: `bench_billing_shared_${deps.runId}`,
    DRIFT_CHECK_CRON: 'off',
  };
  const app: App = await compose(loadConfig(env), { runWorkers: true, serveWeb: true, onError: deps.onError });
  try {
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = await app.web.listen(0);
    deps.log(`provisioning ${TENANTS} tenants…`);
    const slugs = await pool(
      Array.from({ length: TENANTS }, () => starterDeal(deps.runId)),
      4,
      async (deal) => (await app.service.provision(deal, REQUESTER)).job,
    );
    await until(
      'every tenant live',
      async () => (await Promise.all(slugs.map((j) => app.engine.view(j.jobId)))).every((v) => v?.status === 'live'),
      120_000,
    );
    await until(
      'every tenant recorded',
      async () => (await Promise.all(slugs.map((j) => app.store.tenant(j.tenant.slug)))).every((t) => t?.status === 'live'),
      60_000,
    );

    const created = Math.floor(Date.now() / 1000);
    const events = slugs.map((job, i) => {
      const slug = job.tenant.slug;
      const payload = JSON.stringify({
        id: `evt_bench_${deps.runId}_${i}`,
        object: 'event',
        created,
        type: 'customer.subscription.updated',
        data: {
          object: {
            id: `sub_${slug}`,
            customer: `cus_${slug}`,
            status: 'active',
            metadata: { tenant_id: `tnt_${slug}` },
            items: { data: [{ quantity: 1, price: { id: 'price_growth_annual' } }] },
          },
        },
      });
      return { key: `stripe:evt_bench_${deps.runId}_${i}`, payload };
    });
    deps.log(`sending ${TENANTS} signed Stripe events at once…`);
    const sent = await Promise.all(
      events.map(async (e) => {
        const header = Stripe.webhooks.generateTestHeaderString({ payload: e.payload, secret: LOCAL_STRIPE_WEBHOOK_SECRET });
        const at = Date.now();
        const response = await fetch(`${url}/webhooks/stripe`, {
          method: 'POST',
          body: e.payload,
          headers: { 'content-type': 'application/json', 'stripe-signature': header },
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`billing bench: the webhook answered ${response.status}`);
        return { ...e, at, ackMs: Date.now() - at };
      }),
    );
    const firstSent = Math.min(...sent.map((s) => s.at));
    const applied = new Map<string, number>();
    const explain = async () => {
      const outcomes = await Promise.all(sent.map(async (s) => (await app.billingStore.billingEvent(s.key))?.handled?.outcome ?? 'not handled'));
      const kinds = new Map<string, number>();
      for (const o of outcomes) kinds.set(o.replace(/job \S+/, 'job …'), (kinds.get(o.replace(/job \S+/, 'job …')) ?? 0) + 1);
      deps.log(`applied ${applied.size} of ${sent.length}; follow-ups: ${[...kinds].map(([k, n]) => `${n}× ${k}`).join('; ')}`);
    };
    await until(
      'every event applied',
      async () => {
        for (const s of sent) {
          if (applied.has(s.key)) continue;
          const outcome = (await app.billingStore.billingEvent(s.key))?.handled?.outcome ?? '';
          const jobId = /^entitlements job (\S+)/.exec(outcome)?.[1];
          const step = jobId ? (await app.engine.view(jobId))?.steps.find((st) => st.id === 'entitlements') : undefined;
          if (step?.state === 'succeeded' && step.finishedAt !== undefined) applied.set(s.key, step.finishedAt - s.at);
        }
        return applied.size === sent.length;
      },
      180_000,
    ).catch(async (err: unknown) => {
      await explain();
      throw err;
    });
    const acks = sent.map((s) => s.ackMs);
    const latencies = [...applied.values()];
    const lastApplied = Math.max(...sent.map((s) => s.at + (applied.get(s.key) ?? 0)));
    return {
      tenants: TENANTS,
      ack: { p50: percentile(acks, 50), p99: percentile(acks, 99) },
      applied: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      allAppliedMs: lastApplied - firstSent,
    };
  } finally {
    await app.close();
  }
}

export function billingFiguresLines(f: BillingFigures): string[] {
  return [
    `billing:     webhook → flags applied p50 ${fixed(f.applied.p50)} ms, p99 ${fixed(f.applied.p99)} ms over ${f.tenants} tenants receiving a Stripe event at once (all applied ${fixed(f.allAppliedMs)} ms after the first was sent)`,
    `             webhook answered (event durably recorded) p50 ${fixed(f.ack.p50, 1)} ms, p99 ${fixed(f.ack.p99, 1)} ms`,
  ];
}
