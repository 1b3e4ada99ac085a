/**
 * Bunny's platform posts TenantProvisioningChange to POST /webhooks/bunny,
 * signed as Bunny signs: x-bunny-signature = hex HMAC-SHA1 of the body with
 * the signing token. The raw body is checked first; the re-serialised form
 * Bunny's older Node client and sample apps sign is accepted too. A wrong
 * signature is 401 and records nothing; a recorded change answers 200.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_BUNNY_SIGNING_TOKEN } from '../../src/config.ts';
import { billingTruth, entitlementsOf } from '../../src/domain/entitlements.ts';
import { planNamed } from '../../src/domain/plan.ts';
import { verifyBunnySignature } from '../../src/http/routes/webhooks/bunny-signature.ts';
import { dealFor, startTestApp, stopTestApp, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const signed = (body: string | Buffer, token = LOCAL_BUNNY_SIGNING_TOKEN) => createHmac('sha1', token).update(body).digest('hex');

/** A TenantProvisioningChange; `features` in the {code, value, quantity} shape unless given otherwise. */
function change(slug: string, opts: { state?: string; plan?: string; at?: string; features?: unknown[]; flat?: boolean } = {}) {
  const features = opts.features ?? [
    { code: 'SSO', value: null, quantity: null },
    { code: 'USERS', value: null, quantity: 25 },
  ];
  const subscriptions = [
    { id: 'bunny-sub-1', state: opts.state ?? 'active', plan: { code: opts.plan ?? 'growth' }, updatedAt: opts.at ?? '2026-12-01T10:00:00Z' },
  ];
  const payload = opts.flat
    ? { tenant: { code: slug }, account: { name: 'Initech & Sons' }, subscriptions, features }
    : {
        tenant: { code: slug, account: { name: 'Initech & Sons', contacts: [{ email: 'it@initech.example' }] } },
        change: { subscriptions, features },
      };
  return { type: 'TenantProvisioningChange', payload };
}

describe('Bunny webhooks', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  async function serving(): Promise<{ url: string; slug: string; app: TestApp }> {
    app = await startTestApp({ pipeline: pipelineOf(sandbox('database')), serveWeb: true });
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = await app.web.listen(0);
    const { job } = await app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    await waitForRecord(app, job.jobId);
    return { url, slug: job.tenant.slug, app };
  }

  async function deliver(url: string, body: string, signature: string) {
    const response = await fetch(`${url}/webhooks/bunny`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-bunny-signature': signature },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('records a change signed over the raw body: growth, SSO on, 25 users', async () => {
    const { url, slug, app } = await serving();
    // Pretty-printed: only a raw-body signature can match these bytes.
    const body = JSON.stringify(change(slug), null, 2);
    expect(await deliver(url, body, signed(body))).toMatchObject({ status: 200, body: { outcome: 'recorded', version: 'payload' } });
    expect(await deliver(url, body, signed(body))).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });

    const truth = billingTruth(await app.billingStore.billingEventsOf(slug));
    const paid = entitlementsOf(
      truth,
      { planId: 'starter', overrides: {} },
      {
        flags: Object.keys(app.manifests.plans.featureFlags),
        plan: (id) => planNamed(app.manifests.plans, id),
      },
    );
    expect(paid).toMatchObject({ planId: 'growth', state: 'active', limits: { users: 25, storage_gb: 500 } });
    expect(paid.flags).toMatchObject({ sso: true, audit_log: false, custom_roles: false });
  });

  it('accepts the other feature shape, flat under the payload, signed over the re-serialised JSON as the older Node client does', async () => {
    const { url, slug, app } = await serving();
    const features = [
      { code: 'SSO', enabled: false, value: null },
      { code: 'AUDIT_LOG', enabled: true, value: null },
      { code: 'USERS', enabled: true, value: 40 },
    ];
    // "&" and an escaped "/" re-serialise differently: the raw body and JSON.stringify(parsed) differ.
    const body = JSON.stringify(change(slug, { flat: true, features })).replace('Initech & Sons', 'Initech \\u0026 Sons\\/EU');
    const reserialised = JSON.stringify(JSON.parse(body));
    expect(reserialised).not.toBe(body);
    expect(verifyBunnySignature(Buffer.from(body), signed(reserialised), LOCAL_BUNNY_SIGNING_TOKEN)).toBe('reserialised');
    expect((await deliver(url, body, signed(reserialised))).status).toBe(200);

    const truth = billingTruth(await app.billingStore.billingEventsOf(slug));
    expect(truth.features?.value).toMatchObject({ sso: false, audit_log: true });
    expect(truth.limits?.value).toEqual({ users: 40 });
  });

  it('refuses a wrong signature with 401 and records nothing', async () => {
    const { url, slug, app } = await serving();
    const body = JSON.stringify(change(slug));
    for (const signature of [signed(body, 'another-platform-token'), signed(`${body} `), '', `sha1=${signed(body)}`, signed(body).slice(0, 39)]) {
      const answer = await deliver(url, body, signature);
      expect(answer.status).toBe(401);
      expect(String(answer.body['detail'])).toMatch(/x-bunny-signature/);
    }
    expect(await app.billingStore.billingEventsOf(slug)).toEqual([]);
  });

  it('keeps the newer change when an older one arrives late', async () => {
    const { url, slug, app } = await serving();
    const newer = JSON.stringify(change(slug, { state: 'canceled', at: '2026-12-02T10:00:00Z' }));
    const older = JSON.stringify(change(slug, { state: 'active', plan: 'enterprise', at: '2026-12-01T10:00:00Z' }));
    expect((await deliver(url, newer, signed(newer))).status).toBe(200);
    expect((await deliver(url, older, signed(older))).status).toBe(200);
    expect(billingTruth(await app.billingStore.billingEventsOf(slug)).subscription?.value).toMatchObject({ state: 'canceled', planId: 'growth' });
  });

  it('names what it cannot read in a signed payload, with 422, and ignores other event types with 200', async () => {
    const { url, slug, app } = await serving();
    const noTenant = JSON.stringify({ type: 'TenantProvisioningChange', payload: { change: {} } });
    const answer = await deliver(url, noTenant, signed(noTenant));
    expect(answer.status).toBe(422);
    expect(answer.body['errors']).toEqual([expect.objectContaining({ field: 'payload.tenant' })]);
    const oddState = JSON.stringify(change(slug, { state: 'frozen' }));
    expect((await deliver(url, oddState, signed(oddState))).body['detail']).toMatch(/payload.subscriptions/);
    // Found by review: a state named like an object member is no state of ours either.
    const memberState = JSON.stringify(change(slug, { state: 'constructor' }));
    expect(await deliver(url, memberState, signed(memberState))).toMatchObject({ status: 422 });
    const nul = JSON.stringify(change(slug)).replace('Initech & Sons', 'Initech\\u0000');
    expect(await deliver(url, nul, signed(nul))).toMatchObject({
      status: 422,
      body: { errors: [expect.objectContaining({ field: 'payload.tenant.account.name' })] },
    });
    // Found by fuzzing: a negative quantity became a limit no tenant can have, and every later follow-up failed on it.
    const negative = JSON.stringify(change(slug, { features: [{ code: 'USERS', value: null, quantity: -3 }] }));
    expect(await deliver(url, negative, signed(negative))).toMatchObject({
      status: 422,
      body: { errors: [expect.objectContaining({ field: expect.stringMatching(/^payload\.change\.features\.0\.quantity/) })] },
    });
    const negativeValue = JSON.stringify(change(slug, { features: [{ code: 'USERS', value: -1 }] }));
    expect(await deliver(url, negativeValue, signed(negativeValue))).toMatchObject({ status: 422 });
    expect(billingTruth(await app.billingStore.billingEventsOf(slug)).limits).toBeUndefined();
    const invoice = JSON.stringify({ type: 'Invoice', payload: { id: 'inv-1' } });
    expect(await deliver(url, invoice, signed(invoice))).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
  });
});
