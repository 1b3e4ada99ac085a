/**
 * Which parts of a tenant's SSO setup one job made, for a plan change that
 * sets SSO up on a live tenant (the sso step's `keepExisting`). The tenant
 * may already have SSO, from its provisioning or an earlier upgrade: its
 * group, admin and app are then reused, and undoing this job must leave them
 * as they are. What this job creates carries its mark (the group's
 * description, the app's admin notes), so every attempt, check and rollback
 * tells "made by this job" from "there before", even when a crash or a retry
 * lost what an attempt had recorded. The admin is removed when this job's
 * run recorded inviting them, or with the group this job made when an sso
 * step made them; never a person who already had an Okta account.
 */
import type { Application, Client } from '@okta/okta-sdk-nodejs';
import { z } from 'zod';
import { findApps } from './apps.ts';
import { findGroup } from './directory.ts';
import type { SsoNames } from './names.ts';
import { removeAdmin, removeApp, removeGroup } from './teardown.ts';

/** Written into what the job creates; the brackets keep job "a-1" from matching job "a-12". */
export function jobMark(jobId: string): string {
  return `[set up by job ${jobId}]`;
}

function marked(text: string | null | undefined, jobId: string): boolean {
  return typeof text === 'string' && text.includes(jobMark(jobId));
}

const withAdminNote = z.object({ settings: z.object({ notes: z.object({ admin: z.string() }) }) });

/** The app's admin notes: `settings` belongs to each kind of app, not to Application itself. */
function adminNoteOf(app: Application): string | undefined {
  const parsed = withAdminNote.safeParse(app);
  return parsed.success ? parsed.data.settings.notes.admin : undefined;
}

/** What of the tenant's SSO setup this job made; false also when the thing is not there at all. */
export type MadeByJob = { group: boolean; app: boolean };

type Found = { made: MadeByJob; apps: Application[] };

async function survey(client: Client, names: SsoNames, jobId: string): Promise<Found> {
  const group = await findGroup(client, names.groupName);
  const apps = (await findApps(client, names.appLabel)).filter((app) => marked(adminNoteOf(app), jobId));
  return { made: { group: marked(group?.description, jobId), app: apps.length > 0 }, apps };
}

export async function madeByJob(client: Client, names: SsoNames, jobId: string): Promise<MadeByJob> {
  return (await survey(client, names, jobId)).made;
}

/** What this job's run recorded about the admin: `invited` when its run created the person. */
export type AdminRecord = { userId: string | undefined; invited: boolean };

/**
 * Removes what this job made and nothing else, in the teardown's order (app, admin, group); says what it
 * removed. Anything already gone is fine, so a second rollback finds nothing left to do.
 */
export async function undoJob(client: Client, names: SsoNames, adminLogin: string, jobId: string, admin: AdminRecord): Promise<MadeByJob> {
  const { made, apps } = await survey(client, names, jobId);
  for (const app of apps) await removeApp(client, app);
  // An earlier attempt of this job may have invited the admin: with the group this job made goes the person an sso step made.
  if (admin.invited || made.group) {
    await removeAdmin(client, adminLogin, names.adminUserType, { userId: admin.userId, userCreated: admin.invited ? true : undefined });
  }
  if (made.group) await removeGroup(client, names.groupName);
  return made;
}
