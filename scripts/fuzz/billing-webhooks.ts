/**
 * Billing webhooks: POST /webhooks/stripe and /webhooks/bunny on the real
 * server. Stripe events and Bunny payloads that are nearly right (the shapes
 * the providers send, with leaves replaced or removed), bodies of any shape,
 * most of them correctly signed (so they reach the mapping), some with a
 * wrong or missing signature.
 * Properties: never a 5xx; every answer in the documented set (200 recorded,
 * duplicate or ignored; 400 bad signature for Stripe; 401 for Bunny; 413; 422
 * naming each field); an error is a problem document without a stack trace;
 * nothing the follow-up worker does fails with an error it cannot explain.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { BILLING_QUEUE } from '../../src/adapters/billing-queue.ts';
import Stripe from 'stripe';
import { LOCAL_BUNNY_SIGNING_TOKEN, LOCAL_STRIPE_WEBHOOK_SECRET } from '../../src/config.ts';
import { dealFor, startTestApp, stopTestApp, waitForStatus } from '../../test/support/harness.ts';
import { REQUESTER } from '../../test/support/people.ts';
import { pipelineOf, sandbox } from '../../test/support/pipeline.ts';
import { damaged, jsonish, nastyString } from './arbitraries.ts';
import { errorText, type Findings, hasStackTrace } from './findings.ts';

type Delivery = { to: 'stripe' | 'bunny'; body: string; signed: 'right' | 'wrong' | 'none'; contentType: string };

const TARGET = 'billing webhooks';

function deliveries(slug: string): fc.Arbitrary<Delivery> {
  const tenant = fc.oneof(fc.constant(slug), nastyString);
  const stripeTypes = fc.constantFrom(
    'customer.subscription.created',
    'customer.subscription.updated',
    'customer.subscription.deleted',
    'customer.subscription.paused',
    'entitlements.active_entitlement_summary.updated',
    'invoice.payment_failed',
    'invoice.paid',
    'charge.succeeded',
  );
  const stripeEvent = fc
    .record({
      id: fc.oneof(
        fc.uuid().map((u) => `evt_${u}`),
        nastyString,
      ),
      type: stripeTypes,
      t: tenant,
      status: fc.constantFrom('active', 'trialing', 'canceled', 'paused', 'weird'),
    })
    .map(({ id, type, t, status }) => ({
      id,
      object: 'event',
      created: Math.floor(Date.now() / 1000) - 5,
      type,
      data: {
        object: type.startsWith('entitlements')
          ? { customer: `cus_${t}`, entitlements: { data: [{ lookup_key: 'sso' }, { lookup_key: 'nope' }] } }
          : type.startsWith('invoice')
            ? { customer: `cus_${t}`, parent: { subscription_details: { metadata: { tenant_id: `tnt_${t}` } } } }
            : {
                id: `sub_${t}`,
                customer: `cus_${t}`,
                status,
                metadata: { tenant_id: `tnt_${t}` },
                items: { data: [{ quantity: 1, price: { id: 'price_growth_annual' } }] },
              },
      },
    }));
  const bunnyPayload = fc
    .record({
      t: tenant,
      state: fc.constantFrom('trial', 'active', 'canceled', 'frozen'),
      nested: fc.boolean(),
      qty: fc.oneof(fc.integer(), fc.constant(null)),
    })
    .map(({ t, state, nested, qty }) => {
      const subscriptions = [{ id: 'bs-1', state, plan: { code: 'growth' }, updatedAt: new Date().toISOString() }];
      const features = [
        { code: 'SSO', value: null, quantity: null },
        { code: 'USERS', enabled: true, value: qty },
      ];
      const payload = nested
        ? { tenant: { code: t, account: { name: 'Initech' } }, change: { subscriptions, features } }
        : { tenant: { code: t }, subscriptions, features };
      return { type: 'TenantProvisioningChange', payload };
    });
  const body = (shape: fc.Arbitrary<object>) =>
    fc.oneof(
      { weight: 5, arbitrary: damaged(shape).map((value) => JSON.stringify(value) ?? 'null') },
      { weight: 2, arbitrary: shape.map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: jsonish.map((value) => JSON.stringify(value) ?? 'null') },
      { weight: 1, arbitrary: nastyString },
    );
  const signed = fc.constantFrom<Delivery['signed']>('right', 'right', 'right', 'right', 'wrong', 'none');
  const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded');
  return fc.oneof(
    fc.record({ to: fc.constant<'stripe'>('stripe'), body: body(stripeEvent), signed, contentType }),
    fc.record({ to: fc.constant<'bunny'>('bunny'), body: body(bunnyPayload), signed, contentType }),
  );
}

function headersFor(d: Delivery): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': d.contentType };
  if (d.signed === 'none') return headers;
  if (d.to === 'stripe') {
    headers['stripe-signature'] = Stripe.webhooks.generateTestHeaderString({
      payload: d.body,
      secret: d.signed === 'right' ? LOCAL_STRIPE_WEBHOOK_SECRET : 'whsec_other',
    });
  } else {
    headers['x-bunny-signature'] = createHmac('sha1', d.signed === 'right' ? LOCAL_BUNNY_SIGNING_TOKEN : 'other-token')
      .update(d.body)
      .digest('hex');
  }
  return headers;
}

const ALLOWED: Readonly<Record<Delivery['to'], ReadonlySet<number>>> = {
  stripe: new Set([200, 400, 413, 415, 422]),
  bunny: new Set([200, 400, 401, 413, 415, 422]),
};

async function send(findings: Findings, url: string, d: Delivery): Promise<void> {
  const index = findings.tried(TARGET);
  let status: number;
  let text: string;
  try {
    const response = await fetch(`${url}/webhooks/${d.to}`, {
      method: 'POST',
      body: d.body,
      headers: headersFor(d),
      signal: AbortSignal.timeout(15_000),
    });
    status = response.status;
    text = await response.text();
  } catch (err) {
    findings.crash(TARGET, index, `no answer: ${errorText(err)}`, d);
    return;
  }
  if (status >= 500) return findings.crash(TARGET, index, `answered ${status}`, { d, text });
  if (!ALLOWED[d.to].has(status)) return findings.crash(TARGET, index, `answered ${status}, not one of the documented statuses`, { d, text });
  if (hasStackTrace(text)) return findings.crash(TARGET, index, 'stack trace in the answer', { d, text });
  if (status === 422) {
    const parsed: unknown = JSON.parse(text);
    const errors: unknown = parsed !== null && typeof parsed === 'object' ? Reflect.get(parsed, 'errors') : undefined;
    const named =
      Array.isArray(errors) &&
      errors.length > 0 &&
      errors.every((e) => typeof Reflect.get(Object(e), 'field') === 'string' && Reflect.get(Object(e), 'field') !== '');
    if (!named) findings.unnamed(TARGET, index, '422 without a named field', { d, text });
  }
}

export async function fuzzBillingWebhooks(findings: Findings, cases: number, seed: number): Promise<void> {
  const failures: unknown[] = [];
  const app = await startTestApp({ pipeline: pipelineOf(sandbox('database')), serveWeb: true, onError: (err) => failures.push(err) });
  try {
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = await app.web.listen(0);
    const { job } = await app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    const queue = fc.sample(deliveries(job.tenant.slug), { numRuns: cases, seed }).entries();
    const sender = async () => {
      for (const [, d] of queue) await send(findings, url, d);
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    await judgeFollowUps(findings, app.config.redisUrl, app.prefix);
    for (const err of failures)
      findings.crash(TARGET, -1, `the server or a follow-up failed: ${errorText(err)}`, err instanceof Error ? err.stack : err);
  } finally {
    await stopTestApp(app);
  }
}

async function busy(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('active', 'wait');
  return (counts['active'] ?? 0) + (counts['wait'] ?? 0);
}

/** The follow-ups of what was recorded: none may fail, except a tenant busy with another job (retried later, by design). */
async function judgeFollowUps(findings: Findings, redisUrl: string, prefix: string): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(BILLING_QUEUE, { connection, prefix });
  try {
    for (let waited = 0; waited < 10_000 && (await busy(queue)) > 0; waited += 200) await sleep(200);
    for (const job of await queue.getJobs(['failed', 'delayed'])) {
      const reason = job.failedReason ?? '';
      if (reason === '' || reason.includes('is busy')) continue;
      findings.crash(TARGET, -1, `a billing follow-up failed: ${reason}`, { name: job.name, data: job.data, stack: job.stacktrace });
    }
  } finally {
    await queue.close();
    await connection.quit();
  }
}
