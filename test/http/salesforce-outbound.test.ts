/**
 * Salesforce's Outbound Messages over real HTTP: a Closed Won opportunity
 * becomes one job, however often and in whatever company Salesforce sends
 * it; the acknowledgement comes only once every notification is durably
 * handled; and a message that is not one, comes from elsewhere or without
 * the secret gets a SOAP fault naming why, never an ack.
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { appPerTest, type TestApp } from '../support/harness.ts';
import { captureLog } from '../support/log-capture.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';
import {
  ACK,
  CRM_TOKEN,
  ENDPOINT_SECRET,
  GLOBEX,
  INITECH,
  ORG_ID,
  postEnvelope,
  salesforceEnv,
  sample,
  UMBRELLA,
  withNotifications,
} from '../support/salesforce.ts';

const startApp = appPerTest();

/** An app taking outbound messages from ORG_ID, on a small pipeline; resolves with its base URL. */
async function serving(env: Record<string, string> = {}, logger?: ReturnType<typeof createLogger>): Promise<{ app: TestApp; url: string }> {
  const app = await startApp({
    pipeline: pipelineOf(sandbox('database')),
    serveWeb: true,
    env: { ...salesforceEnv(), ...env },
    ...(logger ? { logger } : {}),
  });
  if (!app.web) throw new Error('the HTTP server was not composed');
  return { app, url: await app.web.listen(0) };
}

/** The opportunity of every job the store holds, sorted: one entry per job. */
async function jobOpportunities(app: TestApp): Promise<string[]> {
  return (await app.store.jobSummaries()).map((job) => job.crmOpportunityId).sort();
}

async function pendingIntakes(app: TestApp): Promise<Record<string, unknown>[]> {
  const mongo = new MongoClient(app.config.mongoUri);
  try {
    return await mongo.db(app.dbName).collection('pending_intakes').find({}).toArray();
  } finally {
    await mongo.close();
  }
}

describe('an outbound message Salesforce sends', () => {
  it('with one Closed Won opportunity: acknowledged once its job exists, requested by Salesforce through the API', async () => {
    const { app, url } = await serving();
    const answer = await postEnvelope(url, sample('one-opportunity'));
    expect(answer).toMatchObject({ status: 200, type: 'text/xml; charset=utf-8', body: ACK });

    const job = await app.store.findByOpportunity(GLOBEX.opportunityId);
    expect(job?.definition.intake).toMatchObject({
      companyName: 'Globex & Sons Inc',
      adminEmail: 'it-admin@globex.example',
      plan: 'growth',
      contractValue: 150000,
      dataResidency: 'eu',
      requestedBy: `Salesforce (opportunity ${GLOBEX.opportunityId})`,
    });
    expect(job?.definition.requester).toEqual({ door: 'api', id: 'salesforce' });
    expect(await jobOpportunities(app)).toEqual([GLOBEX.opportunityId]);
  });

  it('with several notifications and a nil SessionId: one job each; an API token does instead of the secret', async () => {
    const { app, url } = await serving();
    const xml = sample('two-opportunities');
    expect(xml).toContain('<SessionId xsi:nil="true"/>');
    const answer = await postEnvelope(url, xml, { secret: null, token: CRM_TOKEN });
    expect(answer).toMatchObject({ status: 200, body: ACK });
    expect(await jobOpportunities(app)).toEqual([INITECH.opportunityId, UMBRELLA.opportunityId].sort());
  });

  it('redelivered, and the same opportunity in another notification: still exactly one job per opportunity', async () => {
    const { app, url } = await serving();
    const first = sample('one-opportunity');
    expect((await postEnvelope(url, first)).body).toBe(ACK);
    const jobId = (await app.store.findByOpportunity(GLOBEX.opportunityId))?.definition.jobId;
    // Salesforce delivers the same notification id again (it missed our ack)…
    expect((await postEnvelope(url, first)).body).toBe(ACK);
    // …the workflow fires again for the same opportunity (a new notification id)…
    const again = sample('one-opportunity', { [GLOBEX.notificationId]: '04l5e00000Gx9ZzAAJ' });
    expect((await postEnvelope(url, again)).body).toBe(ACK);
    // …and both at once, twice in one message and concurrently.
    const both = withNotifications(2).replace('0065e00000B1002AAJ', GLOBEX.opportunityId).replace('Globex 002 Inc', 'Globex &amp; Sons Inc');
    const twice = await Promise.all([postEnvelope(url, both), postEnvelope(url, both)]);
    expect(twice.map((a) => a.status)).toEqual([200, 200]);

    const opportunities = await jobOpportunities(app);
    expect(opportunities.filter((id) => id === GLOBEX.opportunityId)).toHaveLength(1);
    expect(opportunities).toEqual(['0065e00000B1001AAJ', GLOBEX.opportunityId].sort());
    expect((await app.store.findByOpportunity(GLOBEX.opportunityId))?.definition.jobId).toBe(jobId);
    expect(await pendingIntakes(app)).toEqual([]);
  });

  it('killed part way through a message: the redelivery completes the rest and duplicates nothing', async () => {
    const { app, url } = await serving();
    // What a delivery cut short leaves: the first two deals made their jobs, the ack never left.
    const five = withNotifications(5);
    const firstTwo = withNotifications(2);
    expect((await postEnvelope(url, firstTwo)).status).toBe(200);
    const made = await app.store.jobSummaries();
    expect(made).toHaveLength(2);

    expect((await postEnvelope(url, five)).body).toBe(ACK);
    const all = await app.store.jobSummaries();
    expect(all.map((j) => j.crmOpportunityId).sort()).toEqual(['001', '002', '003', '004', '005'].map((n) => `0065e00000B1${n}AAJ`));
    // The two made first are the same jobs, not new ones.
    for (const job of made) expect(all.find((j) => j.crmOpportunityId === job.crmOpportunityId)?.jobId).toBe(job.jobId);
  });

  it('with a plan nobody mapped: acknowledged, recorded once as needing a person, and no job', async () => {
    const { app, url } = await serving();
    const platinum = sample('one-opportunity', { '<sf:Plan__c>Growth</sf:Plan__c>': '<sf:Plan__c>Platinum</sf:Plan__c>' });
    expect((await postEnvelope(url, platinum)).body).toBe(ACK);
    expect((await postEnvelope(url, platinum)).body).toBe(ACK);
    expect(await jobOpportunities(app)).toEqual([]);
    const pending = await pendingIntakes(app);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      _id: GLOBEX.notificationId,
      source: 'Salesforce',
      opportunityId: GLOBEX.opportunityId,
      prefill: { companyName: 'Globex & Sons Inc', adminEmail: 'it-admin@globex.example', contractValue: '150000', dataResidency: 'eu' },
      problems: [{ field: 'plan', message: expect.stringContaining('"Platinum" (Plan__c) is not mapped') }],
    });
    // What Salesforce sent is kept for the person, but never its session.
    expect(JSON.stringify(pending)).not.toContain('fake.session');
  });
});

describe('what Salesforce never sends is refused with a fault that names it', () => {
  it('an unknown organization (403), a wrong or missing secret (401), a wrong token (401): no job, no ack', async () => {
    const { app, url } = await serving();
    const otherOrg = sample('one-opportunity').replace(
      `<OrganizationId>${ORG_ID}</OrganizationId>`,
      '<OrganizationId>00D000000000001AAA</OrganizationId>',
    );
    const unknown = await postEnvelope(url, otherOrg);
    expect(unknown).toMatchObject({ status: 403, type: 'text/xml; charset=utf-8' });
    expect(unknown.fault).toEqual({ code: 'soapenv:Client', reason: expect.stringContaining('organization 00D000000000001AAA may not send') });
    // Configured in its 15-character form, the org is matched in its 18 (as sent), case and all: Salesforce ids are case-sensitive.
    const otherCase = sample('one-opportunity').replace(
      `<OrganizationId>${ORG_ID}</OrganizationId>`,
      `<OrganizationId>${ORG_ID.replace('KQ2e', 'kQ2e')}</OrganizationId>`,
    );
    expect((await postEnvelope(url, otherCase)).status).toBe(403);

    for (const answer of [
      await postEnvelope(url, sample('one-opportunity'), { secret: 'not-the-secret' }),
      await postEnvelope(url, sample('one-opportunity'), { secret: null }),
      await postEnvelope(url, sample('one-opportunity'), { secret: null, token: 'prov_not-a-token' }),
    ]) {
      expect(answer.status).toBe(401);
      expect(answer.fault?.reason).toContain('not authenticated');
      expect(answer.body).not.toContain('Ack');
    }
    expect(await jobOpportunities(app)).toEqual([]);
  });

  it('neither the endpoint secret, a wrong one, nor the Salesforce session reaches the log; refusals are logged with why', async () => {
    const log = captureLog();
    const { url } = await serving({}, createLogger({ level: 'debug', format: 'json', destination: log.stream }));
    expect((await postEnvelope(url, sample('one-opportunity'))).body).toBe(ACK);
    expect((await postEnvelope(url, sample('one-opportunity'), { secret: 'a-guess-at-the-secret' })).status).toBe(401);
    const otherOrg = sample('one-opportunity').replace(
      `<OrganizationId>${ORG_ID}</OrganizationId>`,
      '<OrganizationId>00D000000000001AAA</OrganizationId>',
    );
    expect((await postEnvelope(url, otherOrg)).status).toBe(403);

    expect(log.text()).not.toContain(ENDPOINT_SECRET);
    expect(log.text()).not.toContain('a-guess-at-the-secret');
    expect(log.text()).not.toContain('fake.session');
    const refusals = log.lines().filter((l) => l['msg'] === 'refused a Salesforce outbound message');
    expect(refusals.map((l) => l['reason'])).toEqual([
      'an outbound message without the endpoint secret or an API token',
      'an outbound message from organization 00D000000000001, which is not configured',
    ]);
  });

  it('without any organization configured, every message is refused', async () => {
    const { app, url } = await serving({ SALESFORCE_ORG_IDS: '' });
    const answer = await postEnvelope(url, sample('one-opportunity'), { secret: null, token: CRM_TOKEN });
    expect(answer.status).toBe(403);
    expect(await jobOpportunities(app)).toEqual([]);
  });

  it('a malformed envelope, an XXE payload, a billion laughs: HTTP 500 faults naming the problem, never a stack', async () => {
    const { app, url } = await serving();
    const broken = await postEnvelope(url, sample('one-opportunity').replace('</sf:Plan__c>', '</sf:Plan>'));
    expect(broken.status).toBe(500);
    expect(broken.fault).toEqual({
      code: 'soapenv:Client',
      reason: expect.stringMatching(/^malformed outbound message: the body is not well-formed XML: .*line 20/),
    });

    const notOurs = await postEnvelope(url, sample('one-opportunity').replace('<Id>04l5e00000Gx7QzAAJ</Id>', ''));
    expect(notOurs.fault?.reason).toContain('notifications/Notification[1]/Id: missing');

    const xxe = sample('one-opportunity')
      .replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>',
      )
      .replace('Globex &amp; Sons Inc', '&xxe;');
    const lol = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`)];
    const bomb = sample('one-opportunity')
      .replace('<?xml version="1.0" encoding="UTF-8"?>', `<?xml version="1.0"?>\n<!DOCTYPE lolz [${lol.join('')}]>`)
      .replace('Globex &amp; Sons Inc', '&lol9;');
    for (const payload of [xxe, bomb]) {
      const answer = await postEnvelope(url, payload);
      expect(answer.status).toBe(500);
      expect(answer.fault?.reason).toContain('document type declaration');
      expect(answer.body).not.toContain('root:');
      expect(answer.body).not.toMatch(/\bat \w+ \(/);
    }
    expect(await jobOpportunities(app)).toEqual([]);
  });

  it('a body past 5 MB is a 413 fault; one just under it is read; another content type is a 415 fault', async () => {
    const { app, url } = await serving();
    const tooBig = withNotifications(1, 5 * 1024 * 1024);
    const refused = await postEnvelope(url, tooBig);
    expect(refused.status).toBe(413);
    expect(refused.fault?.reason).toContain('larger than 5 MB');

    const justUnder = withNotifications(2, Math.floor(2.4 * 1024 * 1024));
    expect(Buffer.byteLength(justUnder)).toBeGreaterThan(5_000_000);
    expect((await postEnvelope(url, justUnder)).body).toBe(ACK);
    expect(await jobOpportunities(app)).toEqual(['0065e00000B1001AAJ', '0065e00000B1002AAJ']);

    for (const contentType of ['application/json', null, 'text/xml; charset=iso-8859-1']) {
      const answer = await postEnvelope(url, sample('one-opportunity'), { contentType });
      expect(answer.status).toBe(415);
      expect(answer.fault?.code).toBe('soapenv:Client');
    }
    const tooMany = await postEnvelope(url, withNotifications(101));
    expect(tooMany.status).toBe(500);
    expect(tooMany.fault?.reason).toContain('101 notifications; Salesforce sends at most 100');
  });
});
