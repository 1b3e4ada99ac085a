/**
 * What the sso step says in previews and the trail when its words depend on
 * whether it provisions a tenant or moves a live one to another plan
 * (`keepExisting`): a plan change reuses and keeps an SSO setup already in
 * Okta, and a plan without SSO leaves Okta as it is, people included.
 */
import type { MadeByJob } from './made-by-job.ts';
import { ssoNames } from './names.ts';

type Config = { tenantId: string; companyName: string; adminEmail: string; mode: string; keepExisting: boolean };

/** The preview of a step whose plan has no SSO. */
export function skipped(cfg: Config): string {
  if (!cfg.keepExisting) return `Skip single sign-on for ${cfg.companyName}: the plan does not include SSO`;
  return `Leave Okta as it is for ${cfg.companyName}: the plan does not include SSO; a single sign-on setup already there is kept, with its people`;
}

/** The trail's sentence once such a step is done. */
export function skippedDone(cfg: Config): string {
  if (!cfg.keepExisting) return `Okta single sign-on skipped for ${cfg.companyName}: the plan does not include SSO`;
  return `Okta left as it is for ${cfg.companyName}: the plan does not include SSO (a single sign-on setup already there is kept, with its people)`;
}

export function nothingToUndo(cfg: Config): string {
  return `Nothing to undo in Okta for ${cfg.companyName}: this job left it as it was`;
}

/** A tenant provisioned without SSO, decommissioned: what an upgrade may have set up since is gone too. */
export function removedOnDecommission(cfg: Config): string {
  return `Removed any Okta single sign-on ${cfg.companyName} got after it was provisioned without it (with an upgrade)`;
}

export function setUpSummary(cfg: Config): string {
  const setUp = `Set up Okta single sign-on for ${cfg.companyName}, admin ${cfg.adminEmail}`;
  return cfg.keepExisting ? `${setUp}, unless it is already there: what is there is reused and kept` : setUp;
}

function was(existed: unknown): string {
  if (existed === true) return 'already there, kept';
  if (existed === false) return 'created';
  return 'found or created';
}

export function readyAfterPlanChange(cfg: Config, outputs: Record<string, unknown>): string {
  const { groupName, appLabel } = ssoNames(cfg);
  const app = `${cfg.mode === 'okta_saml' ? 'SAML' : 'OIDC'} app "${appLabel}"`;
  return (
    `Okta single sign-on ready for ${cfg.companyName}: ${cfg.adminEmail} is admin in ${groupName} (${was(outputs['groupExisted'])}), ` +
    `with ${app} (${was(outputs['appExisted'])})`
  );
}

/** What a plan change's rollback did in Okta: it removes only what the job made. */
export function undone(cfg: Config, made: MadeByJob): string {
  const { groupName, appLabel } = ssoNames(cfg);
  const company = cfg.companyName;
  if (made.group && made.app) {
    return `Removed the Okta single sign-on this job set up for ${company}: the app "${appLabel}" and the admin group ${groupName}, with the admin it invited`;
  }
  if (made.app)
    return `Removed the Okta app "${appLabel}" this job created for ${company}; kept the admin group ${groupName}, which was there before`;
  if (made.group)
    return `Removed the admin group ${groupName} this job created for ${company}; kept the Okta app "${appLabel}", which was there before`;
  return `Kept ${company}'s Okta single sign-on as it was: its admin group and app were there before this job`;
}
