/**
 * The SSO step with the real Okta SDK against the stateful Okta fake on
 * loopback. Every assertion reads the fake org's state, never a mock.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import * as okta from '@okta/okta-sdk-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NeedsInputError, PermanentError, TransientError } from '../../src/domain/errors.ts';
import { startOktaFake, type OktaFake } from '../../src/emulators/okta-fake.ts';
import { ssoStep } from '../../src/steps/sso.ts';
import { sampleTenant, stepContext } from '../support/step-context.ts';

import { adfsMetadata, ISSUER, UNPREFIXED_METADATA } from '../fixtures/saml.ts';

let fake: OktaFake;
beforeAll(async () => {
  fake = await startOktaFake({ pageSize: 5 });
});
afterAll(() => fake.close());

/** The SDK as production should configure it: no 429 retries of its own, the engine retries. */
function oktaClient(token = fake.token, orgUrl = fake.url): okta.Client {
  return new okta.Client({ orgUrl, token, requestExecutor: new okta.DefaultRequestExecutor({ maxRetries: 0, requestTimeout: 0 }) });
}

type Mode = 'okta_oidc' | 'okta_saml' | 'customer_idp';

function newTenant(mode: Mode = 'okta_oidc') {
  const suffix = randomBytes(4).toString('hex');
  const slug = `acme-${suffix}`;
  const tenantId = `tnt_${slug}`;
  const config = {
    tenantId,
    companyName: 'Acme Corp',
    adminEmail: `jane.doe.${suffix}@acme-corp.example`,
    mode,
    redirectUri: `https://${slug}.tenants.example.com/auth/callback`,
  };
  const names = { group: `tenant-${slug}-admins`, app: `Acme Corp (${tenantId})`, idp: `Acme Corp (${tenantId}) SAML IdP` };
  const step = ssoStep.bind(config);
  const ctx = (opts: { outputs?: Record<string, unknown>; providedInput?: unknown; client?: okta.Client } = {}) =>
    stepContext({
      jobId: `job-${suffix}`,
      stepId: 'sso',
      tenant: sampleTenant({ slug }),
      services: { okta: async () => opts.client ?? oktaClient() },
      ...opts,
    });
  return { config, names, step, ctx };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the step to fail');
}

async function promptOf(promise: Promise<unknown>): Promise<string> {
  const err = await failureOf(promise);
  if (!(err instanceof NeedsInputError)) throw new Error(`expected NeedsInputError, got ${String(err)}`);
  return err.prompt;
}

function nothingLeft(t: ReturnType<typeof newTenant>): void {
  expect(fake.groupsNamed(t.names.group)).toEqual([]);
  expect(fake.usersWithLogin(t.config.adminEmail)).toEqual([]);
  expect(fake.appsLabelled(t.names.app)).toEqual([]);
  expect(fake.idps(t.names.idp)).toEqual([]);
}

describe('an enterprise tenant gets single sign-on through Okta', () => {
  it('gets one admin group, its admin in it, and an OIDC app assigned to the group', async () => {
    const t = newTenant();
    const result = await t.step.run(t.ctx());
    const [group] = fake.groupsNamed(t.names.group);
    const [admin] = fake.usersWithLogin(t.config.adminEmail);
    const [app] = fake.appsLabelled(t.names.app);
    expect(group?.memberIds).toEqual([admin?.id]);
    expect(admin?.status).toBe('PROVISIONED');
    expect(app).toMatchObject({ status: 'ACTIVE', signOnMode: 'OPENID_CONNECT', groupIds: [group?.id] });
    expect(result).toEqual({
      status: 'done',
      outputs: {
        mode: 'okta_oidc',
        groupId: group?.id,
        groupName: t.names.group,
        userId: admin?.id,
        userCreated: true,
        appId: app?.id,
        appLabel: t.names.app,
        clientId: app?.clientId,
      },
    });
    const appInOkta = await oktaClient().applicationApi.getApplication({ appId: app?.id ?? '' });
    expect(JSON.stringify(appInOkta)).toContain('client_secret');
    expect(JSON.stringify(result)).not.toContain('client_secret');
    expect(await t.step.check(t.ctx({ outputs: result.outputs }))).toEqual({ status: 'done' });
    expect(t.step.describe(result.outputs ?? {})).toContain(`${t.config.adminEmail} is admin in ${t.names.group}`);
  });

  it('run again, even after a crash lost the outputs, still leaves one group, one admin and one app', async () => {
    const t = newTenant();
    const first = await t.step.run(t.ctx());
    const again = await t.step.run(t.ctx({ outputs: first.outputs }));
    const afterCrash = await t.step.run(t.ctx({ outputs: {} }));
    expect(again).toEqual(first);
    expect(afterCrash).toEqual(first);
    expect(fake.groupsNamed(t.names.group)).toHaveLength(1);
    expect(fake.usersWithLogin(t.config.adminEmail)).toHaveLength(1);
    expect(fake.appsLabelled(t.names.app)).toHaveLength(1);
  });

  it('finds its own app and group among many pages of look-alikes', async () => {
    const t = newTenant();
    const client = oktaClient();
    for (let n = 1; n <= 12; n += 1) {
      await client.groupApi.createGroup({ group: { profile: { name: `${t.names.group}-archive-${n}` } } });
      await client.applicationApi.createApplication({ application: samlApp(`${t.names.app} sandbox ${n}`) });
    }
    const first = await t.step.run(t.ctx());
    const before = fake.requests().length;
    expect(await t.step.run(t.ctx())).toEqual(first);
    const appPages = fake
      .requests()
      .slice(before)
      .filter((r) => r.method === 'GET' && r.path === '/api/v1/apps');
    expect(appPages.length).toBeGreaterThanOrEqual(3);
    expect(appPages.some((r) => r.query.includes('after='))).toBe(true);
    expect(fake.groupsNamed(t.names.group).filter((g) => g.name === t.names.group)).toHaveLength(1);
    expect(fake.appsLabelled(t.names.app).filter((a) => a.label === t.names.app)).toHaveLength(1);
  });

  it('gets a SAML app instead when the plan asks for SAML', async () => {
    const t = newTenant('okta_saml');
    const result = await t.step.run(t.ctx());
    expect(fake.appsLabelled(t.names.app)).toMatchObject([{ signOnMode: 'SAML_2_0', status: 'ACTIVE' }]);
    expect(result.outputs).not.toHaveProperty('clientId');
    expect(await t.step.check(t.ctx({ outputs: result.outputs }))).toEqual({ status: 'done' });
    await t.step.rollback(t.ctx({ outputs: result.outputs }));
    nothingLeft(t);
  });

  it('check notices an app or a group deleted in the Okta console', async () => {
    const t = newTenant();
    const { outputs = {} } = await t.step.run(t.ctx());
    fake.deleteOutOfBand('app', String(outputs['appId']));
    expect(await t.step.check(t.ctx({ outputs }))).toEqual({ status: 'missing', reason: expect.stringContaining(t.names.app) });
    await t.step.run(t.ctx({ outputs }));
    fake.deleteOutOfBand('group', String(fake.groupsNamed(t.names.group)[0]?.id));
    expect(await t.step.check(t.ctx({ outputs }))).toEqual({ status: 'missing', reason: expect.stringContaining(t.names.group) });
  });
});

describe('rolling back SSO', () => {
  it('leaves nothing of the tenant in Okta, and a second rollback is fine', async () => {
    const t = newTenant();
    const { outputs } = await t.step.run(t.ctx());
    await t.step.rollback(t.ctx({ outputs }));
    nothingLeft(t);
    await t.step.rollback(t.ctx({ outputs }));
    expect((await t.step.check(t.ctx({ outputs }))).status).toBe('missing');
  });

  it('after a crash that lost the outputs, still finds and removes everything, the admin too', async () => {
    const t = newTenant();
    await t.step.run(t.ctx());
    await t.step.rollback(t.ctx({ outputs: {} }));
    nothingLeft(t);
  });

  it('keeps an admin who already had an Okta account', async () => {
    const t = newTenant();
    const existing = await oktaClient().userApi.createUser({
      body: { profile: { login: t.config.adminEmail, email: t.config.adminEmail, firstName: 'Jane', lastName: 'Doe' } },
    });
    const { outputs } = await t.step.run(t.ctx());
    expect(outputs).toMatchObject({ userId: existing.id, userCreated: false });
    expect(fake.usersWithLogin(t.config.adminEmail)[0]?.groupIds).toEqual([outputs?.['groupId']]);
    await t.step.rollback(t.ctx({ outputs: {} }));
    expect(fake.usersWithLogin(t.config.adminEmail)).toMatchObject([{ id: existing.id, status: 'PROVISIONED', groupIds: [] }]);
    expect(fake.groupsNamed(t.names.group)).toEqual([]);
  });
});

describe('when Okta fails', () => {
  it('a 429 or a 5xx is transient, and the SDK does not spin on retries', async () => {
    const t = newTenant();
    const before = fake.requests().length;
    fake.failNext(1, 429, '/api/v1/groups');
    const limited = await failureOf(t.step.run(t.ctx()));
    expect(limited).toBeInstanceOf(TransientError);
    expect(String(limited)).toMatch(/Okta rate limit/);
    expect(
      fake
        .requests()
        .slice(before)
        .filter((r) => r.status === 429),
    ).toHaveLength(1);
    fake.failNext(1, 500, '/api/v1/apps');
    expect(await failureOf(t.step.run(t.ctx()))).toBeInstanceOf(TransientError);
    expect((await t.step.run(t.ctx())).status).toBe('done');
  });

  it('left to itself, the SDK waits out x-rate-limit-reset and retries', async () => {
    const limited = await startOktaFake({ rateLimitResetSeconds: 0 });
    try {
      const t = newTenant();
      limited.failNext(1, 429, '/api/v1/users');
      const patient = new okta.Client({ orgUrl: limited.url, token: limited.token });
      expect((await t.step.run(t.ctx({ client: patient }))).status).toBe('done');
      expect(limited.requests().map((r) => r.status)).toContain(429);
    } finally {
      await limited.close();
    }
  });

  it('a bad API token or a rejected request is permanent, with a message a person can act on', async () => {
    const t = newTenant();
    const denied = await failureOf(t.step.run(t.ctx({ client: oktaClient('not-the-token') })));
    expect(denied).toBeInstanceOf(PermanentError);
    expect(String(denied)).toMatch(/API token/);
    expect(String(denied)).not.toContain('not-the-token');
    fake.failNext(1, 403, '/api/v1/groups');
    const readOnly = await failureOf(t.step.run(t.ctx()));
    expect(readOnly).toBeInstanceOf(PermanentError);
    expect(String(readOnly)).toMatch(/E0000006.*needs an admin role/);
    fake.failNext(1, 400, '/api/v1/apps');
    const rejected = await failureOf(t.step.run(t.ctx()));
    expect(rejected).toBeInstanceOf(PermanentError);
    expect(String(rejected)).toMatch(/Okta rejected looking up the tenant app: E0000001/);
  });

  it('an app of another kind already holding the label is permanent and named', async () => {
    const t = newTenant();
    await oktaClient().applicationApi.createApplication({ application: samlApp(t.names.app) });
    const err = await failureOf(t.step.run(t.ctx()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(String(err)).toContain(`An Okta app labelled "${t.names.app}" already exists with sign-on mode SAML_2_0`);
  });

  it('an unreachable Okta is transient', async () => {
    const t = newTenant();
    const err = await failureOf(t.step.run(t.ctx({ client: oktaClient(fake.token, 'http://127.0.0.1:9') })));
    expect(err).toBeInstanceOf(TransientError);
    expect(String(err)).toMatch(/Okta unreachable/);
  });

  it('refuses bad configuration before calling Okta', () => {
    const t = newTenant();
    expect(() => ssoStep.bind({ ...t.config, redirectUri: 'http://acme.example.com/cb' })).toThrow();
    expect(() => ssoStep.bind({ ...t.config, mode: 'customer_oidc' })).toThrow();
  });

  it('does nothing in Okta for a plan without SSO', async () => {
    const t = newTenant();
    const off = ssoStep.bind({ ...t.config, enabled: 'false' });
    expect(await off.run(t.ctx())).toEqual({ status: 'done', outputs: { skipped: true } });
    expect(await off.check(t.ctx())).toEqual({ status: 'done' });
    await off.rollback(t.ctx());
    expect(off.describe({ skipped: true })).toMatch(/skipped/);
    nothingLeft(t);
  });
});

describe('a customer who brings their own SAML identity provider', () => {
  it('first asks a person for the metadata, creating nothing until it arrives', async () => {
    const t = newTenant('customer_idp');
    const prompt = await promptOf(t.step.run(t.ctx()));
    expect(prompt).toMatch(/SAML metadata/);
    expect(prompt).toMatch(/OIDC/);
    nothingLeft(t);
  });

  it('asks again, naming what is wrong, when the metadata cannot be used', async () => {
    const t = newTenant('customer_idp');
    const ask = (providedInput: unknown) => promptOf(t.step.run(t.ctx({ providedInput })));
    expect(await ask({ details: adfsMetadata({ signing: false }) })).toMatch(/no signing certificate \(an X509Certificate/);
    expect(await ask({ details: adfsMetadata({ sso: false }) })).toMatch(/no SingleSignOnService/);
    expect(await ask({ details: adfsMetadata({ idp: false }) })).toMatch(/no IDPSSODescriptor/);
    expect(await ask({ details: 'Hi! Our IdP is Azure AD, tenant contoso.' })).toMatch(/not XML/);
    expect(await ask({ metadataUrl: 'http://idp.contoso-test.example/metadata' })).toMatch(/must start with https/);
    expect(await ask({})).toMatch(/neither a metadata URL nor metadata XML/);
    nothingLeft(t);
  });

  it('with good metadata, Okta trusts the IdP and the step is done; re-runs and rollback stay clean', async () => {
    const t = newTenant('customer_idp');
    const result = await t.step.run(t.ctx({ providedInput: { details: adfsMetadata() } }));
    const [idp] = fake.idps(t.names.idp);
    expect(idp).toMatchObject({ status: 'ACTIVE', issuer: ISSUER, ssoUrl: 'https://sts.contoso-test.example/adfs/ls/' });
    expect(result.outputs).toMatchObject({ mode: 'customer_idp', idpId: idp?.id, idpKeyId: idp?.kid, idpIssuer: ISSUER });
    expect(fake.appsLabelled(t.names.app)).toMatchObject([{ signOnMode: 'OPENID_CONNECT' }]);
    expect(await t.step.check(t.ctx({ outputs: result.outputs }))).toEqual({ status: 'done' });
    const keys = fake.idpKeyIds().length;
    await t.step.run(t.ctx({ outputs: {}, providedInput: UNPREFIXED_METADATA }));
    expect(fake.idps(t.names.idp)).toMatchObject([{ id: idp?.id, ssoUrl: 'https://login.contoso-test.example/saml2' }]);
    expect(fake.idpKeyIds()).toHaveLength(keys);
    await t.step.rollback(t.ctx({ outputs: result.outputs }));
    nothingLeft(t);
    expect(fake.idpKeyIds()).not.toContain(idp?.kid);
  });

  it("two tenants of one customer share its certificate; rolling one back keeps the other's trust", async () => {
    const first = newTenant('customer_idp');
    const second = newTenant('customer_idp');
    await first.step.run(first.ctx({ providedInput: adfsMetadata() }));
    await second.step.run(second.ctx({ providedInput: adfsMetadata() }));
    const [kept] = fake.idps(second.names.idp);
    expect(fake.idps(first.names.idp)[0]?.kid).toBe(kept?.kid);
    await first.step.rollback(first.ctx());
    expect(fake.idps(first.names.idp)).toEqual([]);
    expect(fake.idpKeyIds()).toContain(kept?.kid);
    expect(await second.step.check(second.ctx())).toEqual({ status: 'done' });
    await second.step.rollback(second.ctx());
    expect(fake.idpKeyIds()).not.toContain(kept?.kid);
  });

  it('reads the metadata from the URL the customer gave', async () => {
    const t = newTenant('customer_idp');
    const server = await serve((path) => (path === '/federationmetadata.xml' ? UNPREFIXED_METADATA : undefined));
    try {
      const missingPrompt = await promptOf(t.step.run(t.ctx({ providedInput: { metadataUrl: `${server.url}/nope.xml` } })));
      expect(missingPrompt).toMatch(/answered HTTP 404/);
      const result = await t.step.run(t.ctx({ providedInput: { metadataUrl: `${server.url}/federationmetadata.xml` } }));
      expect(result.outputs).toMatchObject({ idpIssuer: ISSUER, idpSsoUrl: 'https://login.contoso-test.example/saml2' });
      expect(fake.idps(t.names.idp)).toHaveLength(1);
      await t.step.rollback(t.ctx({ outputs: result.outputs }));
      nothingLeft(t);
    } finally {
      await server.close();
    }
  });
});

/** Another app someone made in the org, labelled like ours. */
function samlApp(label: string): okta.SamlApplication {
  return { label, signOnMode: 'SAML_2_0', settings: { signOn: samlSignOn() } };
}

function samlSignOn(): okta.SamlApplicationSettingsSignOn {
  return {
    ssoAcsUrl: 'https://sandbox.example.com/acs',
    recipient: 'https://sandbox.example.com/acs',
    destination: 'https://sandbox.example.com/acs',
    audience: 'https://sandbox.example.com',
    idpIssuer: 'http://www.okta.com/${org.externalKey}',
    subjectNameIdTemplate: '${user.userName}',
    subjectNameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    responseSigned: true,
    assertionSigned: true,
    signatureAlgorithm: 'RSA_SHA256',
    digestAlgorithm: 'SHA256',
    honorForceAuthn: true,
    authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    requestCompressed: false,
    allowMultipleAcsEndpoints: false,
  };
}

async function serve(body: (path: string) => string | undefined): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const xml = body(req.url ?? '/');
    if (xml === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(xml);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { url: `http://127.0.0.1:${address.port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('single sign-on set up by a plan change (keepExisting)', () => {
  /** The step as change_plan.yaml configures it, run by the plan-change job `jobId`. */
  function planChange(t: ReturnType<typeof newTenant>, jobId: string) {
    const step = ssoStep.bind({ ...t.config, keepExisting: true });
    const ctx = (outputs: Record<string, unknown> = {}) =>
      stepContext({ jobId, stepId: 'sso', services: { okta: async () => oktaClient() }, outputs });
    return { step, ctx };
  }

  /** Everything of the tenant in Okta, with ids, states, memberships and assignments. */
  function oktaOf(t: ReturnType<typeof newTenant>) {
    return { groups: fake.groupsNamed(t.names.group), admins: fake.usersWithLogin(t.config.adminEmail), apps: fake.appsLabelled(t.names.app) };
  }

  it('sets up what a tenant without SSO lacks; after a failed attempt and a crash lost the outputs, its rollback still removes all of it, the admin too', async () => {
    const t = newTenant();
    const job = planChange(t, `acme-plan-${randomBytes(3).toString('hex')}`);
    // The first attempt dies at the app, once the group and the admin exist.
    fake.failNext(1, 500, '/api/v1/apps');
    expect(await failureOf(job.step.run(job.ctx()))).toBeInstanceOf(TransientError);
    expect(oktaOf(t).groups).toHaveLength(1);
    const result = await job.step.run(job.ctx());
    expect(result.outputs).toMatchObject({ groupExisted: false, appExisted: false, adminInvited: false });
    expect(oktaOf(t).apps).toMatchObject([{ status: 'ACTIVE', groupIds: [oktaOf(t).groups[0]?.id] }]);
    expect(await job.step.check(job.ctx(result.outputs))).toEqual({ status: 'done', outputs: { groupExisted: false, appExisted: false } });
    expect(job.step.describe(result.outputs ?? {})).toBe(
      `Okta single sign-on ready for Acme Corp: ${t.config.adminEmail} is admin in ${t.names.group} (created), with OIDC app "${t.names.app}" (created)`,
    );

    expect(await job.step.rollback(job.ctx())).toEqual({
      summary: `Removed the Okta single sign-on this job set up for Acme Corp: the app "${t.names.app}" and the admin group ${t.names.group}, with the admin it invited`,
    });
    nothingLeft(t);
    await job.step.rollback(job.ctx());
  });

  it("keeps a tenant's own SSO: reused as it is, and its rollback, with or without outputs, removes none of it", async () => {
    const t = newTenant();
    await t.step.run(t.ctx());
    const before = oktaOf(t);
    const job = planChange(t, `acme-plan-${randomBytes(3).toString('hex')}`);
    const result = await job.step.run(job.ctx());
    expect(result.outputs).toMatchObject({ groupExisted: true, appExisted: true, adminInvited: false, appId: before.apps[0]?.id });
    expect(oktaOf(t)).toEqual(before);

    expect(await job.step.rollback(job.ctx(result.outputs))).toEqual({
      summary: "Kept Acme Corp's Okta single sign-on as it was: its admin group and app were there before this job",
    });
    await job.step.rollback(job.ctx());
    expect(oktaOf(t)).toEqual(before);
  });

  it("a later plan change's rollback keeps what an earlier one set up; the earlier one's own rollback removes it", async () => {
    const t = newTenant();
    const first = planChange(t, `acme-plan-${randomBytes(3).toString('hex')}1`);
    const second = planChange(t, `acme-plan-${randomBytes(3).toString('hex')}2`);
    const made = await first.step.run(first.ctx());
    const before = oktaOf(t);
    expect((await second.step.run(second.ctx())).outputs).toMatchObject({ groupExisted: true, appExisted: true });
    await second.step.rollback(second.ctx());
    expect(oktaOf(t)).toEqual(before);
    await first.step.rollback(first.ctx(made.outputs));
    nothingLeft(t);
  });

  it('an app it made beside a group that was there before: its rollback removes the app only', async () => {
    const t = newTenant();
    const { outputs = {} } = await t.step.run(t.ctx());
    fake.deleteOutOfBand('app', String(outputs['appId']));
    const job = planChange(t, `acme-plan-${randomBytes(3).toString('hex')}`);
    const result = await job.step.run(job.ctx());
    expect(result.outputs).toMatchObject({ groupExisted: true, appExisted: false });
    expect(result.outputs?.['appId']).not.toBe(outputs['appId']);

    expect(await job.step.rollback(job.ctx(result.outputs))).toEqual({
      summary: `Removed the Okta app "${t.names.app}" this job created for Acme Corp; kept the admin group ${t.names.group}, which was there before`,
    });
    expect(oktaOf(t)).toMatchObject({ groups: [{ id: outputs['groupId'] }], admins: [{ id: outputs['userId'], status: 'PROVISIONED' }], apps: [] });
  });

  it('a plan without SSO leaves Okta as it is, and says so', async () => {
    const t = newTenant();
    await t.step.run(t.ctx());
    const before = oktaOf(t);
    const off = ssoStep.bind({ ...t.config, keepExisting: true, enabled: false });
    const ctx = stepContext({ jobId: 'acme-plan-down', services: { okta: async () => oktaClient() } });
    expect(await off.run(ctx)).toEqual({ status: 'done', outputs: { skipped: true } });
    expect(off.describe({ skipped: true })).toBe(
      'Okta left as it is for Acme Corp: the plan does not include SSO (a single sign-on setup already there is kept, with its people)',
    );
    expect(await off.rollback(ctx)).toEqual({ summary: 'Nothing to undo in Okta for Acme Corp: this job left it as it was' });
    expect(oktaOf(t)).toEqual(before);
  });

  it("refuses to set up a customer's own identity provider on a plan change, naming the field", () => {
    const t = newTenant('customer_idp');
    expect(() => ssoStep.bind({ ...t.config, keepExisting: true })).toThrow(/mode[\s\S]*keepExisting sets up okta_oidc or okta_saml/);
  });
});

describe('decommissioning a tenant provisioned without SSO', () => {
  it('removes the SSO a plan change set up since, though its provisioning skipped SSO; a plain undo does not', async () => {
    const t = newTenant();
    await ssoStep.bind({ ...t.config, keepExisting: true }).run(stepContext({ jobId: 'acme-plan-up', services: { okta: async () => oktaClient() } }));
    const provisioned = ssoStep.bind({ ...t.config, enabled: false });
    const outputs = { skipped: true };
    expect(await provisioned.rollback(t.ctx({ outputs }))).toBeUndefined();
    expect(fake.appsLabelled(t.names.app)).toHaveLength(1);

    const decommission = stepContext({ jobId: 'acme-prov', services: { okta: async () => oktaClient() }, outputs, rollbackPurpose: 'decommission' });
    expect(await provisioned.rollback(decommission)).toEqual({
      summary: 'Removed any Okta single sign-on Acme Corp got after it was provisioned without it (with an upgrade)',
    });
    nothingLeft(t);
  });
});
