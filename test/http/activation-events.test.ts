/**
 * The product tells the provisioner when a tenant's people first use a
 * workflow: POST /api/v1/tenants/<slug>/activation-events with its bearer
 * token. A redelivery changes nothing; a stranger, a wrong token, a body that
 * is not JSON, too big or wrong, and an unknown tenant are each refused with a
 * problem document that says why.
 */
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenHash } from '../../src/domain/api-callers.ts';
import { NotAllowedError } from '../../src/domain/errors.ts';
import { dealFor, startTestApp, stopTestApp, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { OpenApiContract } from '../support/openapi.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PRODUCT_TOKEN = 'prov_product-token-for-tests-0123456789abcdef';
const NEXT_PRODUCT_TOKEN = 'prov_next-product-token-for-tests-9876543210';
const CRM_TOKEN = 'prov_crm-token-for-tests-abcdefabcdef0123456';

const API_CALLERS = `product=sha256:${tokenHash(PRODUCT_TOKEN)}|sha256:${tokenHash(NEXT_PRODUCT_TOKEN)},salesforce=sha256:${tokenHash(CRM_TOKEN)}`;

type Answer = { status: number; type: string | null; body: Record<string, unknown>; headers: Headers };

/** The OpenAPI document of the app under test: every answer below is checked against it. */
let contract: OpenApiContract | undefined;

describe('activation events from the product', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  /** An app serving the API, with one tenant live. */
  async function withLiveTenant(): Promise<{ url: string; slug: string; app: TestApp }> {
    app = await startTestApp({ pipeline: pipelineOf(sandbox('database')), serveWeb: true, env: { API_CALLERS } });
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = await app.web.listen(0);
    contract = await OpenApiContract.of(url);
    const { job } = await app.service.provision(dealFor({ companyName: 'Initech' }), REQUESTER);
    await waitForStatus(app, job.jobId, ['live']);
    await waitForRecord(app, job.jobId);
    return { url, slug: job.tenant.slug, app };
  }

  /** POSTs, and holds the answer to the OpenAPI document unless the path is one the document does not have (`undocumented`). */
  async function post(url: string, body: string, headers: Record<string, string>, undocumented = false): Promise<Answer> {
    const response = await fetch(url, { method: 'POST', body, headers });
    const text = await response.text();
    const parsed: unknown = text === '' ? {} : JSON.parse(text);
    const record = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.fromEntries(Object.entries(parsed)) : {};
    const type = response.headers.get('content-type');
    if (!undocumented) contract?.check('POST', url, { status: response.status, type: type ?? '', headers: response.headers, body: record, text });
    return { status: response.status, type, body: record, headers: response.headers };
  }

  const asProduct = (token = PRODUCT_TOKEN) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

  it('keeps an event once: 202 the first time, 200 for the same id again, and the KPIs count the workflow', async () => {
    const { url, slug, app } = await withLiveTenant();
    const endpoint = `${url}/api/v1/tenants/${slug}/activation-events`;
    const event = JSON.stringify({ id: 'evt-1', workflow: 'invoices' });

    const first = await post(endpoint, event, asProduct());
    expect(first).toMatchObject({ status: 202, body: { outcome: 'recorded' } });
    const again = await post(endpoint, JSON.stringify({ id: 'evt-1', workflow: 'something else' }), asProduct());
    expect(again).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });
    // The same event delivered twice at once: stored once.
    const [a, b] = await Promise.all([
      post(endpoint, JSON.stringify({ id: 'evt-2', workflow: 'approvals' }), asProduct()),
      post(endpoint, JSON.stringify({ id: 'evt-2', workflow: 'approvals' }), asProduct()),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    // The token being rotated in works as well.
    expect((await post(endpoint, JSON.stringify({ id: 'evt-3', workflow: 'invoices' }), asProduct(NEXT_PRODUCT_TOKEN))).status).toBe(202);

    // Two workflows used (the redelivery's other workflow is not one), the first at once after going live.
    const mongo = new MongoClient(app.config.mongoUri);
    const firsts = await mongo.db(app.dbName).collection('first_activations').find({ tenantSlug: slug }).toArray();
    await mongo.close();
    expect(firsts.map((f) => f['workflow']).sort()).toEqual(['approvals', 'invoices']);
    // The page's figures follow the job's record within moments.
    await expect.poll(async () => (await app.kpis.report(REQUESTER)).activation.tenants.length, { timeout: 10_000 }).toBe(1);
    const report = await app.kpis.report(REQUESTER);
    expect(report.activation.tenants).toEqual([
      expect.objectContaining({ tenantSlug: slug, companyName: 'Initech', firstActivationMs: expect.any(Number), workflowsBy: {} }),
    ]);
  });

  it('refuses a caller without a valid token before reading the body, naming the scheme', async () => {
    const { url, slug } = await withLiveTenant();
    const endpoint = `${url}/api/v1/tenants/${slug}/activation-events`;
    const event = JSON.stringify({ id: 'evt-1', workflow: 'invoices' });
    for (const authorization of [
      undefined,
      'Bearer prov_not-a-token-anyone-was-given',
      `Basic ${btoa('product:secret')}`,
      `Bearer ${PRODUCT_TOKEN}x`,
    ]) {
      const answer = await post(endpoint, event, { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) });
      expect(answer.status).toBe(401);
      expect(answer.type).toBe('application/problem+json; charset=utf-8');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="provisioner"');
      expect(answer.body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
    }
    // Not even a body too large or of the wrong type gets past the door first.
    expect((await post(endpoint, 'x'.repeat(100_000), { 'content-type': 'text/plain' })).status).toBe(401);
  });

  it('answers problems a client can act on: wrong type, too big, not JSON, bad fields, unknown tenant', async () => {
    const { url, slug } = await withLiveTenant();
    const endpoint = `${url}/api/v1/tenants/${slug}/activation-events`;
    const auth = { authorization: `Bearer ${PRODUCT_TOKEN}` };

    const plain = await post(endpoint, 'id=evt-1&workflow=invoices', { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
    expect(plain).toMatchObject({ status: 415, type: 'application/problem+json; charset=utf-8', body: { title: 'Unsupported Media Type' } });
    const text = await post(endpoint, '{"id":"evt-1","workflow":"invoices"}', { ...auth, 'content-type': 'text/plain' });
    expect(text.status).toBe(415);

    const big = await post(endpoint, JSON.stringify({ id: 'evt-1', workflow: 'x'.repeat(10_000) }), asProduct());
    expect(big).toMatchObject({ status: 413, body: { title: 'Content Too Large', status: 413 } });

    const broken = await post(endpoint, '{"id": "evt-1", "workflow": ', asProduct());
    expect(broken).toMatchObject({ status: 400, body: { title: 'Bad Request', detail: 'The body is not valid JSON.' } });

    const invalid = await post(endpoint, JSON.stringify({ id: '', at: 'last tuesday', tenant: slug }), asProduct());
    expect(invalid).toMatchObject({ status: 422, type: 'application/problem+json; charset=utf-8', body: { title: 'Unprocessable Content' } });
    expect(invalid.body['errors']).toEqual([
      { field: 'id', detail: 'id must not be empty' },
      { field: 'workflow', detail: 'workflow must be text' },
      { field: 'at', detail: 'at must be an ISO 8601 date and time, e.g. 2026-12-01T09:30:00Z' },
      { field: 'tenant', detail: 'tenant is not a field of an activation event' },
    ]);
    expect(JSON.stringify(invalid.body)).not.toMatch(/at .*\.ts:\d+/);

    const unknown = await post(`${url}/api/v1/tenants/no-such-tenant/activation-events`, JSON.stringify({ id: 'e', workflow: 'w' }), asProduct());
    expect(unknown).toMatchObject({ status: 404, body: { title: 'Not Found', detail: 'There is no tenant "no-such-tenant".' } });

    const nowhere = await post(`${url}/api/v1/nothing-here`, '{}', asProduct(), true);
    expect(nowhere).toMatchObject({ status: 404, type: 'application/problem+json; charset=utf-8' });
  });

  it('takes activation events only from the product’s door, never from a person', async () => {
    const { slug, app } = await withLiveTenant();
    await expect(app.kpis.recordActivation(slug, { id: 'evt-1', workflow: 'invoices' }, person('pat.platform', 'admin'))).rejects.toThrow(
      NotAllowedError,
    );
  });
});
