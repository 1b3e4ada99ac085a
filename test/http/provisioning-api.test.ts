/**
 * A CRM asks for tenants over the HTTP API: POST /api/v1/provisioning-requests
 * with its bearer token, then follows the job at the link it was given until
 * the tenant is live. The same deal twice is one job, another deal on the
 * same opportunity is refused naming what differs, an Idempotency-Key replays
 * the first answer, and every refusal is a problem document. Every answer is
 * checked against the OpenAPI document the server serves.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tokenHash } from '../../src/domain/api-callers.ts';
import { requestHash } from '../../src/http/routes/api/provisioning-requests.ts';
import { dealFor, startTestApp, stopTestApp, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { type ApiAnswer, apiClient, OpenApiContract } from '../support/openapi.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import { REQUESTER } from '../support/people.ts';
import { CHANNEL, type SlackTestApp, startSlackApp, stopSlackApp } from '../support/slack-app.ts';

const CRM_TOKEN = 'prov_crm-token-for-tests-abcdefabcdef0123456';
const PRODUCT_TOKEN = 'prov_product-token-for-tests-0123456789abcdef';
const API_CALLERS = `salesforce=sha256:${tokenHash(CRM_TOKEN)},product:reporter=sha256:${tokenHash(PRODUCT_TOKEN)}`;

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 20, resource: 'database' }),
  sandbox('billing', { latencyMs: 20, resource: 'stripe customer' }, { needs: ['database'] }),
);

/** A deal as a CRM sends it: the intake's fields, without requestedBy (the caller is the requester). */
function crmDeal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { requestedBy: _person, ...deal } = dealFor(overrides);
  return deal;
}

type Api = ReturnType<typeof apiClient>;

describe('the CRM asks for tenants over the HTTP API', () => {
  let app: TestApp;
  let url: string;
  let contract: OpenApiContract;
  let asCrm: Api;

  async function start(env: Record<string, string> = {}): Promise<void> {
    app = await startTestApp({ pipeline: PIPELINE, serveWeb: true, env: { API_CALLERS, ...env } });
    if (!app.web) throw new Error('the HTTP server was not composed');
    url = await app.web.listen(0);
    contract = await OpenApiContract.of(url);
    asCrm = apiClient(url, contract, CRM_TOKEN);
  }

  beforeEach(async () => start());
  afterEach(async () => stopTestApp(app));

  async function jobsFor(opportunity: string): Promise<number> {
    const mongo = new MongoClient(app.config.mongoUri);
    try {
      return await mongo.db(app.dbName).collection('jobs').countDocuments({ crmOpportunityId: opportunity });
    } finally {
      await mongo.close();
    }
  }

  it('starts a job (202 with its links), which the CRM follows until the tenant is live', async () => {
    const deal = crmDeal({ companyName: 'Globex Inc' });
    const asked = await asCrm('POST', '/provisioning-requests', { body: deal });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({
      outcome: 'created',
      state: 'running',
      tenant: { slug: deal['slug'], companyName: 'Globex Inc', plan: 'starter' },
    });
    const jobId = String(asked.body['jobId']);
    const links = Object(asked.body['links']);
    expect(links).toEqual({ status: `${url}/api/v1/jobs/${jobId}`, admin: `${url}/admin/jobs/${jobId}` });

    let job: ApiAnswer | undefined;
    const statusPath = new URL(links.status).pathname.replace('/api/v1', '');
    for (let i = 0; i < 200 && job?.body['state'] !== 'live'; i++) {
      job = await asCrm('GET', statusPath);
      await sleep(50);
    }
    expect(job?.body).toMatchObject({
      jobId,
      state: 'live',
      requestedBy: 'Salesforce',
      crmOpportunityId: deal['crmOpportunityId'],
      liveUrl: `https://${deal['slug']}.tenants.example.com`,
      progress: { done: 2, total: 2 },
    });
    expect(Object(job?.body['steps']).map((s: { id: string; state: string }) => [s.id, s.state])).toEqual([
      ['database', 'succeeded'],
      ['billing', 'succeeded'],
    ]);
    const tenant = await asCrm('GET', `/tenants/${deal['slug']}`);
    expect(tenant).toMatchObject({ status: 200, body: { jobId, state: 'live' } });

    // The audit trail names the caller and its door, like any person's request.
    await waitForRecord(app, jobId);
    const { lines } = await app.service.audit(String(deal['slug']));
    expect(lines.join('\n')).toMatch(/Salesforce requested a starter tenant for Globex Inc .*through the API/);
  });

  it('gives the same deal its one job again (200), and refuses another deal on the same opportunity naming what differs (409)', async () => {
    const deal = crmDeal();
    const first = await asCrm('POST', '/provisioning-requests', { body: deal });
    expect(first.status).toBe(202);
    // The same deal, sent again with its fields in another order and the company name in other case.
    const again = await asCrm('POST', '/provisioning-requests', {
      body: { ...Object.fromEntries(Object.entries(deal).reverse()), companyName: 'ACME CORP' },
    });
    expect(again).toMatchObject({ status: 200, body: { outcome: 'existing', jobId: first.body['jobId'] } });

    const other = await asCrm('POST', '/provisioning-requests', { body: { ...deal, plan: 'growth', adminEmail: 'someone@else.example' } });
    expect(other).toMatchObject({
      status: 409,
      type: 'application/problem+json; charset=utf-8',
      body: { title: 'Conflict', differences: ['adminEmail', 'plan'], jobId: first.body['jobId'] },
    });
    expect(String(other.body['detail'])).toContain(String(deal['crmOpportunityId']));
    expect(await jobsFor(String(deal['crmOpportunityId']))).toBe(1);
  });

  it('links the customer status page once someone has shared it, and not once it is withdrawn', async () => {
    const deal = crmDeal();
    const jobId = String((await asCrm('POST', '/provisioning-requests', { body: deal })).body['jobId']);
    const shared = await app.service.shareStatusPage(jobId, REQUESTER);
    expect(shared).toMatch(new RegExp(`^${url}/status/`));
    expect((await asCrm('GET', `/jobs/${jobId}`)).body['links']).toMatchObject({ customerStatusPage: shared });
    expect((await asCrm('POST', '/provisioning-requests', { body: deal })).body['links']).toMatchObject({ customerStatusPage: shared });
    await app.service.withdrawStatusPages(jobId, REQUESTER);
    expect(Object((await asCrm('GET', `/tenants/${deal['slug']}`)).body['links'])).not.toHaveProperty('customerStatusPage');
  });

  it('makes one job of 20 identical requests at once', async () => {
    const deal = crmDeal();
    const answers = await Promise.all(Array.from({ length: 20 }, () => asCrm('POST', '/provisioning-requests', { body: deal })));
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(19).fill(200), 202]);
    expect(new Set(answers.map((a) => a.body['jobId'])).size).toBe(1);
    expect(await jobsFor(String(deal['crmOpportunityId']))).toBe(1);
  });

  it('replays the first answer for the same Idempotency-Key and body, even to 20 at once, and refuses the key for another body', async () => {
    const deal = crmDeal();
    const key = { 'idempotency-key': 'f3b5c7e2-9a41-4d1e-8f0a-2b6c1d9e7a55' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => asCrm('POST', '/provisioning-requests', { body: deal, headers: key })));
    // Every one gets the first answer, status and body, byte for byte.
    expect(new Set(answers.map((a) => `${a.status} ${a.text}`))).toEqual(new Set([`202 ${answers[0]?.text}`]));
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    expect(await jobsFor(String(deal['crmOpportunityId']))).toBe(1);

    const reused = await asCrm('POST', '/provisioning-requests', { body: { ...deal, contractValue: 99_000 }, headers: key });
    expect(reused).toMatchObject({ status: 422, body: { title: 'Unprocessable Content' } });
    expect(String(reused.body['detail'])).toContain('Idempotency-Key was used for another request');

    // A refusal is not kept: the caller fixes the body and retries with the same key.
    const fixKey = { 'idempotency-key': 'retry-after-fixing-0001' };
    const bad = await asCrm('POST', '/provisioning-requests', { body: { ...crmDeal(), adminEmail: 'not-an-email' }, headers: fixKey });
    expect(bad.status).toBe(422);
    expect((await asCrm('POST', '/provisioning-requests', { body: crmDeal(), headers: fixKey })).status).toBe(202);

    const badKey = await asCrm('POST', '/provisioning-requests', { body: crmDeal(), headers: { 'idempotency-key': 'spaces are not allowed' } });
    expect(badKey).toMatchObject({ status: 400, body: { detail: 'Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID.' } });
  });

  it('answers a retry after a crash between claiming the key and answering: in progress at first, then taken over, still one job', async () => {
    const deal = crmDeal();
    // The crashed request got as far as creating the job (by opportunity), and left its claim without an answer.
    expect((await asCrm('POST', '/provisioning-requests', { body: deal })).status).toBe(202);
    const mongo = new MongoClient(app.config.mongoUri);
    const keys = mongo.db(app.dbName).collection<{ _id: string }>('api_idempotency_keys');
    const claim = (ageMs: number) => {
      const claimedAt = new Date(Date.now() - ageMs);
      return { _id: 'salesforce:crashed-1', requestHash: requestHash(deal), claimedAt, expiresAt: new Date(claimedAt.getTime() + 86_400_000) };
    };
    try {
      await keys.insertOne(claim(1_000));
      const headers = { 'idempotency-key': 'crashed-1' };
      const waiting = await asCrm('POST', '/provisioning-requests', { body: deal, headers });
      expect(waiting).toMatchObject({ status: 409, body: { title: 'Conflict' } });
      expect(waiting.headers.get('retry-after')).toBe('1');

      // Past 30 s without an answer, the claim was abandoned: the retry takes it over and finds the job.
      await keys.replaceOne({ _id: 'salesforce:crashed-1' }, claim(31_000));
      const retried = await asCrm('POST', '/provisioning-requests', { body: deal, headers });
      expect(retried).toMatchObject({ status: 200, body: { outcome: 'existing' } });
      expect((await asCrm('POST', '/provisioning-requests', { body: deal, headers })).headers.get('idempotent-replayed')).toBe('true');
    } finally {
      await mongo.close();
    }
    expect(await jobsFor(String(deal['crmOpportunityId']))).toBe(1);
  });

  it('names every bad field with what to do, and never answers 500 to bad input', async () => {
    const bad = await asCrm('POST', '/provisioning-requests', {
      body: { companyName: '', slug: 'Not A Slug', adminEmail: 'jane@', plan: 'platinum', contractValue: -5, crmOpportunityId: '006 X', tenant: 'x' },
    });
    expect(bad).toMatchObject({ status: 422, type: 'application/problem+json; charset=utf-8', body: { title: 'Unprocessable Content' } });
    const fields = Object(bad.body['errors']).map((e: { field: string }) => e.field);
    expect(fields.sort()).toEqual(['adminEmail', 'companyName', 'contractStartDate', 'contractValue', 'crmOpportunityId', 'plan', 'slug', 'tenant']);
    expect(bad.body['errors']).toContainEqual({ field: 'adminEmail', detail: 'Enter a valid email address, e.g. jane@acme.com' });

    const named = await asCrm('POST', '/provisioning-requests', { body: { ...crmDeal(), requestedBy: 'someone.else' } });
    expect(named.body['errors']).toEqual([
      { field: 'requestedBy', detail: 'The requester is the caller your API token names; leave requestedBy out' },
    ]);

    for (const raw of ['[]', '"a deal"', '42', 'null', 'true']) {
      const notAnObject = await asCrm('POST', '/provisioning-requests', { raw });
      expect(notAnObject, raw).toMatchObject({ status: 422, body: { errors: [{ field: '(body)' }] } });
    }
    const huge = await asCrm('POST', '/provisioning-requests', {
      raw: JSON.stringify(crmDeal()).replace('"contractValue":12000', '"contractValue":1e400'),
    });
    expect(huge.body['errors']).toEqual([{ field: 'contractValue', detail: expect.stringContaining('above the maximum') }]);
    const junk = await asCrm('POST', '/provisioning-requests', {
      body: crmDeal({ companyName: 'Evil\u202Eroc \u001b[31m', adminEmail: '\ud800@x.example' }),
    });
    expect(junk.status).toBe(422);
    expect(Object(junk.body['errors']).map((e: { field: string }) => e.field)).toEqual(['companyName', 'adminEmail']);

    const broken = await asCrm('POST', '/provisioning-requests', { raw: '{"companyName": "Acme", ' });
    expect(broken).toMatchObject({ status: 400, body: { detail: 'The body is not valid JSON.' } });
    const poisoned = await asCrm('POST', '/provisioning-requests', { raw: '{"__proto__": {"admin": true}}' });
    expect(poisoned.status).toBe(400);
    const tooBig = await asCrm('POST', '/provisioning-requests', { body: crmDeal({ companyName: 'x'.repeat(70_000) }) });
    expect(tooBig).toMatchObject({ status: 413, body: { title: 'Content Too Large' } });
    const form = await asCrm('POST', '/provisioning-requests', {
      raw: 'companyName=Acme',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form).toMatchObject({ status: 415, body: { title: 'Unsupported Media Type' } });
    for (const answer of [bad, named, huge, junk, broken, tooBig, form]) expect(answer.text).not.toMatch(/\.ts:\d+|at .*\(/);
  });

  it('refuses callers without a valid token (401), callers who may not ask for tenants (403), and what does not exist (404)', async () => {
    for (const token of [undefined, 'prov_nobody-was-given-this-token-000000000']) {
      const answer = await apiClient(url, contract, token)('POST', '/provisioning-requests', { body: crmDeal() });
      expect(answer).toMatchObject({ status: 401, body: { title: 'Unauthorized' } });
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="provisioner"');
    }
    expect((await apiClient(url, contract, undefined)('GET', '/jobs/anything')).status).toBe(401);

    const product = await apiClient(url, contract, PRODUCT_TOKEN)('POST', '/provisioning-requests', { body: crmDeal() });
    expect(product).toMatchObject({
      status: 403,
      body: { title: 'Forbidden', detail: 'You are not allowed to request tenants; ask an admin to add you as a requester.' },
    });

    expect(await asCrm('GET', '/jobs/no-such-job')).toMatchObject({ status: 404, body: { detail: 'There is no job "no-such-job".' } });
    expect(await asCrm('GET', '/tenants/no-such-tenant')).toMatchObject({ status: 404, body: { detail: 'There is no tenant "no-such-tenant".' } });
    // The contract the answers are held to does fail an answer the document does not describe.
    const job = await asCrm('POST', '/provisioning-requests', { body: crmDeal() });
    const at = `${url}/api/v1/jobs/x`;
    expect(() => contract.check('GET', at, { ...job, status: 418 })).toThrow('GET /jobs/{jobId} answered 418, which the document does not list');
    expect(() => contract.check('GET', at, { ...job, status: 200 })).toThrow('body does not match the document');
    expect(() => contract.check('GET', at, { ...job, status: 404 })).toThrow('answered application/json; the document says application/problem+json');
  });
});

describe('each caller’s budget', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    if (app) await stopTestApp(app);
    app = undefined;
  });

  it('answers 429 with Retry-After past the budget, and says what is left on every answer', async () => {
    app = await startTestApp({ pipeline: PIPELINE, serveWeb: true, env: { API_CALLERS, API_RATE_LIMIT_PER_MINUTE: '3' } });
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = await app.web.listen(0);
    const asCrm = apiClient(url, await OpenApiContract.of(url), CRM_TOKEN);
    // A fixed one-minute window: should the minute turn during the round, the count starts again, so try once more.
    for (let round = 0; round < 2; round++) {
      const minute = Math.floor(Date.now() / 60_000);
      const answers = await Promise.all(Array.from({ length: 4 }, () => asCrm('GET', '/tenants/nobody-yet')));
      if (Math.floor(Date.now() / 60_000) !== minute && round === 0) continue;
      const refused = answers.filter((a) => a.status === 429);
      expect(answers.filter((a) => a.status === 404)).toHaveLength(3);
      expect(refused).toHaveLength(1);
      const [tooMany] = refused;
      expect(tooMany?.body).toMatchObject({ title: 'Too Many Requests', detail: expect.stringContaining('3 requests a minute') });
      const retryAfter = Number(tooMany?.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(tooMany?.headers.get('ratelimit')).toBe(`"per-caller";r=0;t=${retryAfter}`);
      expect(tooMany?.headers.get('ratelimit-policy')).toBe('"per-caller";q=3;w=60');
      expect(answers.map((a) => a.headers.get('ratelimit')?.split(';')[1]).sort()).toEqual(['r=0', 'r=0', 'r=1', 'r=2']);
      break;
    }
  });
});

describe('a job the CRM asked for, in Slack', () => {
  let slack: SlackTestApp | undefined;
  afterEach(async () => {
    await stopSlackApp(slack);
    slack = undefined;
  });

  it('has the same progress message in #onboarding as any other, naming the caller and the opportunity', async () => {
    slack = await startSlackApp({ pipeline: PIPELINE, env: { API_CALLERS } });
    const url = slack.eventsUrl.replace(/\/slack\/events$/, '');
    const asCrm = apiClient(url, await OpenApiContract.of(url), CRM_TOKEN);
    const deal = crmDeal({ companyName: 'Initech' });
    const asked = await asCrm('POST', '/provisioning-requests', { body: deal });
    expect(asked.status).toBe(202);
    await waitForStatus(slack.app, String(asked.body['jobId']), ['live']);

    const fake = slack.fake;
    const progress = () => fake.messages(CHANNEL).find((m) => JSON.stringify(m).includes('Initech'));
    const requestedBy = `Requested by Salesforce through the API (opportunity \`${deal['crmOpportunityId']}\`)`;
    await expect.poll(() => JSON.stringify(progress() ?? {}), { timeout: 10_000 }).toContain(requestedBy);
    await expect.poll(() => JSON.stringify(progress() ?? {}), { timeout: 10_000 }).toContain('Live');
    expect(fake.messages(CHANNEL)).toHaveLength(1);
  });
});
