import { MongoClient } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActionRefusedError, InvalidInputError } from '../../src/domain/errors.ts';
import { jobIdFor } from '../../src/domain/job-definition.ts';
import { auditOf, dealFor, startTestApp, stopTestApp, waitForRecord, waitForStatus, type TestApp } from '../support/harness.ts';
import { person, REQUESTER } from '../support/people.ts';
import { pipelineOf, sandbox } from '../support/pipeline.ts';

const PIPELINE = pipelineOf(
  sandbox('database', { latencyMs: 20, resource: '${tenant.databaseName}' }),
  sandbox('dns', { latencyMs: 20, resource: '${tenant.dnsName}' }),
  sandbox('billing', { latencyMs: 20, resource: '${plan.billing.priceRef}' }, { needs: ['database', 'dns'] }),
);

async function provisionError(app: TestApp, raw: unknown): Promise<InvalidInputError> {
  const err: unknown = await app.service.provision(raw, REQUESTER).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof InvalidInputError)) throw new Error(`expected an InvalidInputError, got ${String(err)}`);
  return err;
}

/** The slug reservations as stored: slug → the job holding it, and its status. */
async function reservations(app: TestApp): Promise<Map<string, { jobId: string; status: string }>> {
  const mongo = new MongoClient(app.config.mongoUri);
  try {
    const docs = await mongo.db(app.dbName).collection<{ _id: string; jobId: string; status: string }>('tenants').find().toArray();
    return new Map(docs.map((d) => [d._id, { jobId: d.jobId, status: d.status }]));
  } finally {
    await mongo.close();
  }
}

/** Moves every slug reservation and hand-over claim into the past, as if the process behind it died that long ago. */
async function ageReservations(app: TestApp, ms: number): Promise<void> {
  const mongo = new MongoClient(app.config.mongoUri);
  try {
    const db = mongo.db(app.dbName);
    const past = new Date(Date.now() - ms);
    await db.collection('tenants').updateMany({}, { $set: { updatedAt: past } });
    await db.collection('tenant_handovers').updateMany({}, { $set: { at: past } });
  } finally {
    await mongo.close();
  }
}

const text = (value: unknown) => String(value);

describe('intake and duplicate submissions', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ pipeline: PIPELINE });
  });
  afterEach(async () => {
    await stopTestApp(app);
  });

  it('the same deal submitted twice lands on the same job and creates each resource once', async () => {
    const deal = dealFor();
    const first = await app.service.provision(deal, REQUESTER);
    const second = await app.service.provision({ ...deal }, REQUESTER);
    expect(first.outcome).toBe('created');
    expect(second.outcome).toBe('existing');
    expect(second.job.jobId).toBe(first.job.jobId);
    expect((await waitForStatus(app, first.job.jobId, ['live', 'failed'])).status).toBe('live');
    // Submitted again after it went live: still the same job, nothing runs again.
    const third = await app.service.provision(deal, REQUESTER);
    expect(third).toMatchObject({ outcome: 'existing', job: { jobId: first.job.jobId, status: 'live' } });
    expect(Object.values((await app.ledger.inventory()).creations)).toEqual(['1', '1', '1']);
    const { entries } = await auditOf(app, first.job);
    expect(entries.filter((e) => e.type === 'job.created')).toHaveLength(1);
  });

  it('two concurrent submissions of the same deal make one job', async () => {
    const deal = dealFor();
    const results = await Promise.all([app.service.provision(deal, REQUESTER), app.service.provision({ ...deal }, REQUESTER)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['created', 'existing']);
    const [first, second] = results;
    expect(second.job.jobId).toBe(first.job.jobId);
    const jobId = first.job.jobId;
    expect((await waitForStatus(app, jobId, ['live', 'failed'])).status).toBe('live');
    expect(await app.store.findJobs({ search: first.job.tenant.slug, limit: 10 })).toHaveLength(1);
    const { creations } = await app.ledger.inventory();
    expect(creations).toEqual({ [`${jobId}.database`]: '1', [`${jobId}.dns`]: '1', [`${jobId}.billing`]: '1' });
    const { entries } = await auditOf(app, first.job);
    expect(entries.filter((e) => e.type === 'job.created')).toHaveLength(1);
    expect(entries.filter((e) => e.type === 'step.started' && e.stepId === 'billing')).toHaveLength(1);
  });

  it('refuses a different deal asking for a slug that a running job holds', async () => {
    const { job } = await app.service.provision(dealFor(), REQUESTER);
    const other = dealFor({ slug: job.tenant.slug, companyName: 'Acme Holdings' });
    const err = await provisionError(app, other);
    expect(err.problems).toEqual([
      { field: 'slug', message: expect.stringContaining(`"${job.tenant.slug}" is already used by another tenant (job ${job.jobId}`) },
    ]);
    expect(err.problems[0]?.message).toMatch(/; choose another slug$/);
    expect(await app.store.findByOpportunity(String(other['crmOpportunityId']))).toBeNull();
    // The first job is unaffected.
    expect((await waitForStatus(app, job.jobId, ['live', 'failed'])).status).toBe('live');
    expect(await app.store.findJobs({ search: job.tenant.slug, limit: 10 })).toHaveLength(1);
  });

  it('bad intake gets one precise message per field, and nothing is stored or started', async () => {
    const err = await provisionError(app, {
      companyName: '  ',
      slug: 'admin',
      adminEmail: 'it-admin at acme',
      plan: 'platinum',
      contractStartDate: '2026-02-30',
      contractValue: -5,
      dataResidency: 'mars',
      featureOverrides: { teleport: true },
      crmOpportunityId: 'opp 42',
      favouriteColour: 'teal',
    });
    expect(err.problems).toEqual([
      { field: 'companyName', message: 'Enter the company name' },
      { field: 'slug', message: '"admin" is reserved for our own hostnames; choose another slug, e.g. "admin-co"' },
      { field: 'adminEmail', message: 'Enter a valid email address, e.g. jane@acme.com' },
      { field: 'plan', message: 'Unknown plan "platinum"; choose one of: starter, growth, enterprise' },
      { field: 'contractStartDate', message: '2026-02-30 is not a real calendar date' },
      { field: 'contractValue', message: 'Contract value cannot be negative' },
      { field: 'dataResidency', message: 'Unknown data residency "mars"; choose one of: us, eu, uk, au' },
      { field: 'featureOverrides', message: expect.stringMatching(/^Unknown feature flag "teleport"; known flags: sso, audit_log, /) },
      { field: 'crmOpportunityId', message: 'CRM opportunity id may only contain letters, digits, "_" and "-", e.g. 006Dn00000AbCdE' },
      { field: 'favouriteColour', message: '"favouriteColour" is not an intake field' },
    ]);

    // One field wrong: exactly that field is named.
    const typo = await provisionError(app, dealFor({ contractStartDate: '02/11/2026' }));
    expect(typo.problems).toEqual([
      { field: 'contractStartDate', message: 'Use the format YYYY-MM-DD for the contract start date, e.g. 2026-11-02' },
    ]);

    expect(await app.store.findJobs({ limit: 10 })).toEqual([]);
    expect(await app.engine.redis.keys(`${app.prefix}:pj*`)).toEqual([]);
    expect(await app.ledger.inventory()).toEqual({ resources: {}, creations: {} });
  });
});

describe('a CRM opportunity id names one deal', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await startTestApp({ pipeline: PIPELINE });
  });
  afterEach(async () => {
    await stopTestApp(app);
  });

  it('reused for another customer, it is refused naming the tenant that holds it and what differs; nothing is reserved', async () => {
    const acme = dealFor();
    const { job } = await app.service.provision(acme, REQUESTER);
    const globex = dealFor({ crmOpportunityId: acme['crmOpportunityId'], companyName: 'Globex Inc', plan: 'growth' });

    const err = await provisionError(app, globex);
    expect(err.problems).toEqual([
      {
        field: 'crmOpportunityId',
        message:
          `Opportunity ${text(acme['crmOpportunityId'])} already belongs to tenant ${job.tenant.slug} (Acme Corp, job ${job.jobId}); ` +
          'this request differs in company name, slug and plan. Check the opportunity id, or send the same details to follow that job.',
      },
    ]);
    // Globex's slug was not left reserved: a deal of its own gets it.
    expect((await reservations(app)).has(text(globex['slug']))).toBe(false);
    expect((await app.service.provision(dealFor({ slug: globex['slug'], companyName: 'Globex Inc' }), REQUESTER)).outcome).toBe('created');

    // A different admin email or feature set alone makes a different deal too.
    const changed = await provisionError(app, { ...acme, adminEmail: 'someone-else@acme.example', featureOverrides: { sso: true } });
    expect(changed.problems[0]?.message).toContain('differs in admin email and feature overrides.');
  });

  it('the same deal sent again by someone else, typed slightly differently, follows the existing job', async () => {
    const acme = dealFor({ plan: 'growth', featureOverrides: { sso: false } });
    const { job } = await app.service.provision(acme, REQUESTER);
    const again = await app.service.provision(
      {
        ...acme,
        companyName: '  ACME   corp ',
        adminEmail: 'IT-Admin@Acme.example',
        contractValue: '12,000.00',
        featureOverrides: { sso: false, audit_log: true }, // audit_log is on in growth anyway
      },
      person('sam.other', 'requester'),
    );
    expect(again).toMatchObject({ outcome: 'existing', job: { jobId: job.jobId } });
    expect(await app.store.findJobs({ limit: 10 })).toHaveLength(1);
  });

  it('20 racing submissions mixing opportunities and slugs: one job per opportunity and per slug, every reservation backed by a job', async () => {
    const slugs = [0, 1, 2, 3].map(() => text(dealFor()['slug']));
    const opportunities = [0, 1, 2, 3, 4].map(() => text(dealFor()['crmOpportunityId']));
    // All 20 (slug, opportunity) pairs, an opportunity's four slugs together: the first four race for one opportunity with four free slugs.
    const deals = opportunities.flatMap((crmOpportunityId) => slugs.map((slug) => dealFor({ slug, crmOpportunityId })));
    const results = await Promise.allSettled(deals.map((deal) => app.service.provision(deal, REQUESTER)));

    const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(winners.length).toBeGreaterThan(0);
    expect(winners.every((w) => w.outcome === 'created')).toBe(true);
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      expect(r.reason, `submission ${i}`).toBeInstanceOf(InvalidInputError);
      const problems = r.reason instanceof InvalidInputError ? r.reason.problems : [];
      expect(
        problems.map((p) => p.field),
        `submission ${i}: ${String(r.reason)}`,
      ).toEqual([expect.stringMatching(/^(slug|crmOpportunityId)$/)]);
    });

    const stored = await app.store.findJobs({ limit: 100 });
    const storedIds = new Set(stored.map((j) => j.view.jobId));
    expect([...storedIds].sort()).toEqual(winners.map((w) => w.job.jobId).sort());
    expect(new Set(stored.map((j) => j.view.crmOpportunityId)).size).toBe(stored.length);
    expect(new Set(stored.map((j) => j.view.tenant.slug)).size).toBe(stored.length);

    // Every reservation points at a stored job of that slug, and every stored job holds its slug.
    const held = await reservations(app);
    for (const [slug, { jobId }] of held) expect(stored.find((j) => j.view.jobId === jobId)?.view.tenant.slug, slug).toBe(slug);
    for (const j of stored) expect(held.get(j.view.tenant.slug)?.jobId).toBe(j.view.jobId);
    // A losing submission left no live state behind for a job that does not exist.
    for (const deal of deals) {
      const jobId = jobIdFor({ slug: text(deal['slug']), crmOpportunityId: text(deal['crmOpportunityId']) });
      if (!storedIds.has(jobId)) expect(await app.engine.view(jobId), jobId).toBeNull();
    }
    for (const w of winners) expect((await waitForStatus(app, w.job.jobId, ['live', 'failed'])).status).toBe('live');
  });

  it('a cancelled tenant hands its slug to exactly one of several racing deals', async () => {
    const first = dealFor({ plan: 'growth', contractValue: 150_000 }); // waits for approval
    const { job } = await app.service.provision(first, REQUESTER);
    await waitForStatus(app, job.jobId, ['awaiting_approval']);
    await app.service.cancel(job.jobId, person('jane.ae'), 'the customer signed with a new entity');
    await waitForRecord(app, job.jobId);
    expect((await reservations(app)).get(text(first['slug']))?.status).toBe('cancelled');

    const rivals = Array.from({ length: 20 }, () => dealFor({ slug: first['slug'] }));
    const results = await Promise.allSettled(rivals.map((deal) => app.service.provision(deal, REQUESTER)));
    const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidInputError);
    expect((await reservations(app)).get(text(first['slug']))?.jobId).toBe(winners[0]?.job.jobId);
    const holders = await app.store.findJobs({ search: text(first['slug']), limit: 20 });
    expect(holders.map((h) => h.view.jobId).sort()).toEqual([job.jobId, winners[0]?.job.jobId].sort());
  });
  it('a process that died between reserving a slug and storing its job blocks the slug only for a while', async () => {
    const deal = dealFor();
    const slug = text(deal['slug']);
    // The crash, just now: a reservation for a job that was never stored.
    expect(await app.store.reserveTenant({ slug, jobId: 'job-that-never-was', companyName: 'Ghost Co' })).toEqual({ ok: true });
    expect((await provisionError(app, deal)).problems[0]?.field).toBe('slug');

    // Two minutes later the reservation is abandoned: the slug goes to exactly one of several racing deals.
    await ageReservations(app, 120_000);
    const rivals = Array.from({ length: 10 }, () => dealFor({ slug }));
    const results = await Promise.allSettled(rivals.map((d) => app.service.provision(d, REQUESTER)));
    const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.job.jobId] : []));
    expect(winners).toHaveLength(1);
    expect((await reservations(app)).get(slug)?.jobId).toBe(winners[0]);
  });

  it('a deal that won a released slug and died before storing its job does not hold the slug forever', async () => {
    const first = dealFor({ plan: 'growth', contractValue: 150_000 });
    const { job } = await app.service.provision(first, REQUESTER);
    await waitForStatus(app, job.jobId, ['awaiting_approval']);
    await app.service.cancel(job.jobId, person('jane.ae'), 'the customer signed with a new entity');
    await waitForRecord(app, job.jobId);
    const slug = text(first['slug']);
    // The crash: the hand-over claim was won by a job that was never stored.
    expect(await app.store.reserveTenant({ slug, jobId: 'job-that-never-was', companyName: 'Ghost Co' })).toEqual({ ok: true });
    await ageReservations(app, 120_000);

    const next = await app.service.provision(dealFor({ slug }), REQUESTER);
    expect(next.outcome).toBe('created');
    expect((await reservations(app)).get(slug)?.jobId).toBe(next.job.jobId);
  });

  it('looking up a tenant by text holding a NUL finds nothing, and says so, instead of failing in the store', async () => {
    await expect(app.service.status('acme\u0000corp')).rejects.toBeInstanceOf(ActionRefusedError);
    expect(await app.store.getJob('job\u0000x')).toBeNull();
    expect(await app.store.statusLink('link\u0000x')).toBeNull();
  });
});
