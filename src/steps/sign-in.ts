/**
 * Whether the tenant's people can sign in through Okta: blocked while the
 * tenant is suspended, allowed again when it is reactivated. Blocking takes
 * the tenant's app away from its admin group and deactivates the app (nobody,
 * however assigned, signs in to an inactive app); allowing does the reverse,
 * in the reverse order. Data, users and the group itself are kept. Each
 * rollback does the opposite of its run. A tenant whose plan has no SSO has
 * no Okta app: its sign-in is the product's own, and the step does nothing.
 */
import type { Client } from '@okta/okta-sdk-nodejs';
import { z } from 'zod';
import { findApps, isAssigned } from './sso/apps.ts';
import { findGroupId } from './sso/directory.ts';
import { ssoNames } from './sso/names.ts';
import { call, removeIfPresent } from './sso/okta-calls.ts';
import { defineStep, type CheckResult } from './step.ts';

const input = z.strictObject({
  /** The plan's `sso` feature: without it the tenant has no Okta app to block. */
  enabled: z.union([z.boolean(), z.stringbool()]).default(true),
  tenantId: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, { error: 'tenantId may only contain letters, digits, "_" and "-"' }),
  companyName: z.string().trim().min(1).max(120),
  access: z.enum(['blocked', 'allowed']),
});
type Input = z.output<typeof input>;
type Access = Input['access'];

type Target = { appId: string; status: string | undefined; groupId: string | undefined };

/**
 * The tenant's app and admin group, found by the names the sso step gave them; undefined when it has
 * no app (a plan change switched SSO on without setting it up, or someone removed it): nobody signs in
 * through an app that is not there, so there is nothing to block or allow.
 */
async function targetOf(client: Client, cfg: Input): Promise<Target | undefined> {
  const names = ssoNames(cfg);
  const [app] = await findApps(client, names.appLabel);
  if (!app?.id) return undefined;
  return { appId: app.id, status: app.status, groupId: await findGroupId(client, names.groupName) };
}

async function setAccess(client: Client, cfg: Input, access: Access): Promise<Target | undefined> {
  const target = await targetOf(client, cfg);
  if (!target) return undefined;
  const { appId, groupId } = target;
  if (access === 'blocked') {
    if (groupId)
      await removeIfPresent('taking the tenant app from its admin group', () =>
        client.applicationApi.unassignApplicationFromGroup({ appId, groupId }),
      );
    if (target.status === 'ACTIVE') await call('deactivating the tenant app', () => client.applicationApi.deactivateApplication({ appId }));
  } else {
    if (target.status !== 'ACTIVE') await call('activating the tenant app', () => client.applicationApi.activateApplication({ appId }));
    if (groupId) {
      await call('giving the tenant app back to its admin group', () =>
        client.applicationApi.assignGroupToApplication({ appId, groupId, applicationGroupAssignment: {} }),
      );
    }
  }
  return target;
}

async function verify(client: Client, cfg: Input): Promise<CheckResult> {
  const target = await targetOf(client, cfg);
  if (!target) return { status: 'done' };
  const { appId, status, groupId } = target;
  const assigned = groupId ? await isAssigned(client, appId, groupId) : false;
  const blocked = status !== 'ACTIVE' && !assigned;
  if (cfg.access === 'blocked' ? blocked : status === 'ACTIVE' && (assigned || !groupId)) return { status: 'done' };
  return {
    status: 'missing',
    reason: `sign-in to ${cfg.companyName}'s Okta app is not ${cfg.access} (app ${status ?? 'unknown'}, ${assigned ? '' : 'not '}assigned)`,
  };
}

const opposite = (access: Access): Access => (access === 'blocked' ? 'allowed' : 'blocked');

export const signInStep = defineStep({
  type: 'sign_in',
  description: "Blocks or allows sign-in to the tenant's Okta app (suspension and reactivation); data and people are kept.",
  input,
  uses: ['okta'],
  async run(ctx) {
    if (!ctx.input.enabled) return { status: 'done', outputs: { skipped: true } };
    const target = await setAccess(await ctx.services.okta(), ctx.input, ctx.input.access);
    if (!target) return { status: 'done', outputs: { skipped: true, noApp: true } };
    return { status: 'done', outputs: { appId: target.appId, access: ctx.input.access } };
  },
  async check(ctx) {
    return ctx.input.enabled ? verify(await ctx.services.okta(), ctx.input) : { status: 'done' };
  },
  async rollback(ctx) {
    if (!ctx.input.enabled) return;
    await setAccess(await ctx.services.okta(), ctx.input, opposite(ctx.input.access));
  },
  plan(cfg, context) {
    if (!cfg.enabled)
      return { summary: `Leave sign-in to ${cfg.companyName} alone: the plan does not include SSO, so there is no Okta app`, resources: [] };
    const { appLabel, groupName } = ssoNames(cfg);
    const blocking = cfg.access === 'blocked';
    return {
      summary: blocking
        ? `Block sign-in to ${cfg.companyName} in Okta: deactivate its app and take it from the admin group; data and people are kept`
        : `Allow sign-in to ${cfg.companyName} again in Okta: activate its app and give it back to the admin group`,
      resources: [
        {
          system: 'Okta',
          kind: 'app',
          name: appLabel,
          place: context.placement.oktaOrg,
          settings: blocking ? ['deactivated', `unassigned from ${groupName}`] : ['active', `assigned to ${groupName}`],
          unknown: ['nothing to change if the tenant has no Okta app'],
        },
      ],
    };
  },
  describe(cfg, outputs) {
    if (outputs['noApp'] === true) return `No Okta sign-in to change for ${cfg.companyName}: it has no Okta app`;
    if (outputs['skipped'] === true) return `No Okta sign-in to change for ${cfg.companyName}: the plan does not include SSO`;
    return cfg.access === 'blocked'
      ? `Sign-in to ${cfg.companyName} blocked in Okta: the app is deactivated and taken from the admin group`
      : `Sign-in to ${cfg.companyName} allowed again in Okta: the app is active and assigned to the admin group`;
  },
});
