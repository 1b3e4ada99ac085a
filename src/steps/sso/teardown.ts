/**
 * Undoing the SSO setup, in reverse order of creation: the app (Okta only
 * deletes deactivated apps), the customer's IdP and its key, the admin user
 * if and only if this step created them, then the admin group. Everything
 * is found by its deterministic name, and anything already gone is fine.
 */
import type { Application, Client } from '@okta/okta-sdk-nodejs';
import { findApps } from './apps.ts';
import { findGroupId, findUser } from './directory.ts';
import { removeIdp } from './identity-provider.ts';
import type { SsoNames } from './names.ts';
import { removeIfPresent } from './okta-calls.ts';

/** What an earlier run recorded, when it got that far. */
export type Recorded = { userId?: string | undefined; userCreated?: boolean | undefined; idpKeyId?: string | undefined };

/** Okta deletes only deactivated apps. */
export async function removeApp(client: Client, app: Application): Promise<void> {
  const appId = app.id;
  if (!appId) return;
  if (app.status === 'ACTIVE') {
    await removeIfPresent('deactivating the tenant app', () => client.applicationApi.deactivateApplication({ appId }));
  }
  await removeIfPresent('deleting the tenant app', () => client.applicationApi.deleteApplication({ appId }));
}

async function removeApps(client: Client, label: string): Promise<void> {
  for (const app of await findApps(client, label)) await removeApp(client, app);
}

/**
 * Deletes the admin only when this step created them: the recorded answer
 * wins, else the marker written at creation decides. A person who already
 * had an Okta account keeps it.
 */
export async function removeAdmin(client: Client, login: string, adminUserType: string, recorded: Recorded): Promise<void> {
  const user = await findUser(client, login);
  const userId = user?.id;
  if (!user || !userId) return;
  // The account we created is gone and someone made a new one under the same login: not ours.
  if (recorded.userId !== undefined && recorded.userId !== userId) return;
  const created = recorded.userCreated ?? user.profile?.userType === adminUserType;
  if (!created) return;
  if (user.status !== 'DEPROVISIONED') {
    await removeIfPresent('deactivating the admin user', () => client.userApi.deactivateUser({ userId }));
  }
  await removeIfPresent('deleting the admin user', () => client.userApi.deleteUser({ userId }));
}

export async function removeGroup(client: Client, name: string): Promise<void> {
  const groupId = await findGroupId(client, name);
  if (groupId) await removeIfPresent('deleting the admin group', () => client.groupApi.deleteGroup({ groupId }));
}

export async function tearDown(client: Client, names: SsoNames, adminLogin: string, recorded: Recorded): Promise<void> {
  await removeApps(client, names.appLabel);
  await removeIdp(client, names.idpName, recorded.idpKeyId);
  await removeAdmin(client, adminLogin, names.adminUserType, recorded);
  await removeGroup(client, names.groupName);
}
