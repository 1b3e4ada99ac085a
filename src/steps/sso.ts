/**
 * Single sign-on for an enterprise tenant, in Okta: an admin group for the
 * tenant, the customer's first admin in it, and the tenant's app assigned to
 * that group. Three ways to sign in:
 * - okta_oidc: an OIDC web app (the tenant redirects to Okta);
 * - okta_saml: a custom SAML 2.0 app;
 * - customer_idp: the customer brings their own SAML IdP. The step parks
 *   until a person supplies its metadata, then Okta trusts that IdP and the
 *   tenant signs in through an OIDC app as above.
 * The OIDC client secret never leaves Okta; outputs carry the client id only.
 */
import { z } from 'zod';
import { ensureApp, ensureAssigned, findApps, isAssigned, type AppRequest } from './sso/apps.ts';
import { customerMetadata } from './sso/customer-metadata.ts';
import { ensureAdmin, ensureGroup, findGroupId, findUser, isMember, type Admin } from './sso/directory.ts';
import { jobMark, madeByJob, undoJob } from './sso/made-by-job.ts';
import { nothingToUndo, readyAfterPlanChange, removedOnDecommission, setUpSummary, skipped, skippedDone, undone } from './sso/words.ts';
import { ensureIdp, findIdp } from './sso/identity-provider.ts';
import { ssoNames, type SsoNames } from './sso/names.ts';
import { tearDown } from './sso/teardown.ts';
import { defineStep, type CheckResult, type Outputs, type StepContext } from './step.ts';

const httpsUrl = z.url({ protocol: /^https$/, error: 'Enter an https:// address' });

const input = z
  .strictObject({
    /** The plan's `sso` feature: when off, the step does nothing (templates may render it as "true"/"false"). */
    enabled: z.union([z.boolean(), z.stringbool()]).default(true),
    tenantId: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, { error: 'tenantId may only contain letters, digits, "_" and "-"' }),
    companyName: z.string().trim().min(1).max(120),
    adminEmail: z.email({ error: "Enter the customer admin's email address" }),
    mode: z.enum(['okta_oidc', 'okta_saml', 'customer_idp']),
    /** Where Okta sends people back after signing in, e.g. the tenant URL + "/auth/callback". */
    redirectUri: httpsUrl,
    /** okta_saml only; defaults to "/auth/saml/acs" on the redirect URI's host. */
    samlAcsUrl: httpsUrl.optional(),
    /** okta_saml only: the SAML audience (SP entity id); defaults to the redirect URI's origin. */
    audience: z.string().trim().min(1).optional(),
    /**
     * For a plan change on a live tenant (see sso/made-by-job.ts): an SSO setup already in Okta is reused
     * and kept, a rollback removes only what this job created, and with `enabled` off Okta is left as it is.
     */
    keepExisting: z.boolean().default(false),
  })
  .refine((cfg) => !(cfg.keepExisting && cfg.mode === 'customer_idp'), {
    path: ['mode'],
    error: "keepExisting sets up okta_oidc or okta_saml; a customer's own identity provider is set up when the tenant is provisioned",
  });
type Input = z.output<typeof input>;

const recordedOutputs = z
  .object({ userId: z.string(), userCreated: z.boolean(), idpKeyId: z.string(), adminInvited: z.boolean() })
  .partial()
  .catch({});

/** Without a job id (the preview), the app as any run would ask for it, unmarked. */
function appRequest(cfg: Input, names: SsoNames, jobId?: string): AppRequest {
  const adminNote = cfg.keepExisting && jobId !== undefined ? { adminNote: `Single sign-on for ${cfg.companyName} ${jobMark(jobId)}` } : {};
  if (cfg.mode !== 'okta_saml') return { label: names.appLabel, kind: 'OPENID_CONNECT', redirectUri: cfg.redirectUri, ...adminNote };
  const origin = new URL(cfg.redirectUri).origin;
  return {
    label: names.appLabel,
    kind: 'SAML_2_0',
    target: { acsUrl: cfg.samlAcsUrl ?? `${origin}/auth/saml/acs`, audience: cfg.audience ?? origin },
    ...adminNote,
  };
}

function groupDescription(cfg: Input, jobId: string): string {
  const description = `Administrators of ${cfg.companyName} (${cfg.tenantId})`;
  return cfg.keepExisting ? `${description} ${jobMark(jobId)}` : description;
}

/** For a plan change: whether the group and app were there before this job, and whether this run invited the admin (a rollback removes only what the job made). */
async function existedBefore(ctx: StepContext<Input>, admin: Admin): Promise<Outputs> {
  if (!ctx.input.keepExisting) return {};
  const made = await madeByJob(await ctx.services.okta(), ssoNames(ctx.input), ctx.jobId);
  return { groupExisted: !made.group, appExisted: !made.app, adminInvited: admin.createdNow };
}

async function setUp(ctx: StepContext<Input>): Promise<Outputs> {
  const cfg = ctx.input;
  const client = await ctx.services.okta();
  const names = ssoNames(cfg);
  // Asked for before anything is created, so a step waiting for a person leaves nothing half-made in Okta.
  const metadata =
    cfg.mode === 'customer_idp'
      ? await customerMetadata(ctx.providedInput, cfg.companyName, { fetch: ctx.services.fetch, signal: ctx.signal })
      : undefined;
  const groupId = await ensureGroup(client, names.groupName, groupDescription(cfg, ctx.jobId));
  const admin = await ensureAdmin(client, { login: cfg.adminEmail, companyName: cfg.companyName, adminUserType: names.adminUserType, groupId });
  const app = await ensureApp(client, appRequest(cfg, names, ctx.jobId));
  await ensureAssigned(client, app.appId, groupId);
  const outputs: Outputs = {
    ...(await existedBefore(ctx, admin)),
    mode: cfg.mode,
    groupId,
    groupName: names.groupName,
    userId: admin.userId,
    userCreated: admin.created,
    appId: app.appId,
    appLabel: names.appLabel,
  };
  if (app.clientId !== undefined) outputs['clientId'] = app.clientId;
  if (metadata) {
    const idp = await ensureIdp(client, names.idpName, metadata);
    Object.assign(outputs, {
      idpId: idp.idpId,
      idpKeyId: idp.keyId,
      idpIssuer: metadata.entityId,
      idpSsoUrl: metadata.ssoUrl,
      idpCertificateExpires: metadata.certificateExpires.toISOString(),
    });
  }
  return outputs;
}

function missing(reason: string): CheckResult {
  return { status: 'missing', reason };
}

async function verify(ctx: StepContext<Input>): Promise<CheckResult> {
  const cfg = ctx.input;
  const client = await ctx.services.okta();
  const names = ssoNames(cfg);
  const groupId = await findGroupId(client, names.groupName);
  if (!groupId) return missing(`the admin group ${names.groupName} is gone from Okta`);
  const user = await findUser(client, cfg.adminEmail);
  if (!user?.id || user.status === 'DEPROVISIONED') return missing(`the admin ${cfg.adminEmail} is missing or deactivated in Okta`);
  if (!(await isMember(client, groupId, user.id))) return missing(`${cfg.adminEmail} is no longer in ${names.groupName}`);
  const [app] = await findApps(client, names.appLabel);
  if (!app?.id || app.status !== 'ACTIVE') return missing(`the Okta app "${names.appLabel}" is missing or inactive`);
  if (!(await isAssigned(client, app.id, groupId))) return missing(`the Okta app "${names.appLabel}" is no longer assigned to ${names.groupName}`);
  if (cfg.mode === 'customer_idp') {
    const idp = await findIdp(client, names.idpName);
    if (idp?.status !== 'ACTIVE') return missing(`the customer's identity provider "${names.idpName}" is missing or inactive in Okta`);
  }
  return { status: 'done' };
}

export const ssoStep = defineStep({
  type: 'sso',
  description: "Okta SSO: the tenant's admin group and first admin, an OIDC or SAML app assigned to it, or the customer's own SAML IdP.",
  facts: { groupId: 'Okta admin group', appId: 'Okta app', idpId: 'Okta identity provider' },
  input,
  uses: ['okta'],
  async run(ctx) {
    if (!ctx.input.enabled) return { status: 'done', outputs: { skipped: true } };
    return { status: 'done', outputs: await setUp(ctx) };
  },
  async check(ctx) {
    if (!ctx.input.enabled) return { status: 'done' };
    const found = await verify(ctx);
    if (found.status !== 'done' || !ctx.input.keepExisting) return found;
    const made = await madeByJob(await ctx.services.okta(), ssoNames(ctx.input), ctx.jobId);
    return { status: 'done', outputs: { groupExisted: !made.group, appExisted: !made.app } };
  },
  async rollback(ctx) {
    const cfg = ctx.input;
    const recorded = recordedOutputs.parse(ctx.outputs);
    if (!cfg.enabled && !cfg.keepExisting && ctx.rollbackPurpose === 'decommission') {
      // Provisioned without SSO, the tenant may have got it with an upgrade since: decommissioning removes it all the same.
      await tearDown(await ctx.services.okta(), ssoNames(cfg), cfg.adminEmail, recorded);
      return { summary: removedOnDecommission(cfg) };
    }
    if (!cfg.enabled) return cfg.keepExisting ? { summary: nothingToUndo(cfg) } : undefined;
    if (cfg.keepExisting) {
      const made = await undoJob(await ctx.services.okta(), ssoNames(cfg), cfg.adminEmail, ctx.jobId, {
        userId: recorded.userId,
        invited: recorded.adminInvited === true,
      });
      return { summary: undone(cfg, made) };
    }
    await tearDown(await ctx.services.okta(), ssoNames(cfg), cfg.adminEmail, recorded);
  },
  plan(cfg, context) {
    if (!cfg.enabled) return { summary: skipped(cfg), resources: [] };
    const names = ssoNames(cfg);
    const okta = (kind: string, name: string, settings: string[], unknown: string[]) => ({
      system: 'Okta',
      kind,
      name,
      place: context.placement.oktaOrg,
      settings,
      unknown,
    });
    const app = appRequest(cfg, names);
    // A plan change may find the tenant's SSO already there: it is reused and kept, never replaced.
    const reused = cfg.keepExisting ? ['created only if missing: one already in Okta is reused and kept, even if this job is rolled back'] : [];
    const resources = [
      okta('group', names.groupName, [`administrators of ${cfg.tenantId}`], ['group id: assigned at creation', ...reused]),
      okta('user', cfg.adminEmail, [`member of ${names.groupName}`], ['user id: assigned at creation; an existing Okta account is reused']),
      okta(
        app.kind === 'SAML_2_0' ? 'SAML app' : 'OIDC app',
        names.appLabel,
        [app.kind === 'SAML_2_0' ? `ACS ${app.target.acsUrl}` : `redirect ${cfg.redirectUri}`, `assigned to ${names.groupName}`],
        [app.kind === 'SAML_2_0' ? 'app id: assigned at creation' : 'app id and client id: assigned at creation', ...reused],
      ),
    ];
    if (cfg.mode !== 'customer_idp') return { summary: setUpSummary(cfg), resources };
    resources.push(
      okta('SAML identity provider', names.idpName, ["the customer's own IdP"], ["issuer and certificate: from the customer's metadata"]),
    );
    return {
      summary: `Set up sign-in through ${cfg.companyName}'s own identity provider, once the customer sends its SAML metadata`,
      resources,
      waitsForCustomer: `the SAML metadata of ${cfg.companyName}'s identity provider`,
    };
  },
  describe(cfg, outputs) {
    if (!cfg.enabled) return skippedDone(cfg);
    if (cfg.keepExisting) return readyAfterPlanChange(cfg, outputs);
    const names = ssoNames(cfg);
    const how =
      cfg.mode === 'okta_saml'
        ? `SAML app "${names.appLabel}"`
        : cfg.mode === 'okta_oidc'
          ? `OIDC app "${names.appLabel}"`
          : `sign-in through ${cfg.companyName}'s own identity provider${typeof outputs['idpIssuer'] === 'string' ? ` (${outputs['idpIssuer']})` : ''}`;
    return `Okta single sign-on set up for ${cfg.companyName}: ${cfg.adminEmail} is admin in ${names.groupName}, with ${how}`;
  },
});
