/**
 * The tenant's admin group and the customer's first admin in Okta. Group
 * creation is not idempotent (a second POST fails on the taken name), so
 * every create is preceded by a search and followed, on "already exists",
 * by another search: whoever created it first wins and we reuse theirs.
 */
import type { Client, User } from '@okta/okta-sdk-nodejs';
import { PermanentError, TransientError } from '../../domain/errors.ts';
import { namesFromEmail } from './names.ts';
import { call, findFirst, isAlreadyExists, isNotFound, oktaFailure } from './okta-calls.ts';

function quoted(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

export type FoundGroup = { id: string; description: string | undefined };

export async function findGroup(client: Client, name: string): Promise<FoundGroup | undefined> {
  const group = await findFirst(
    'looking up the admin group',
    () => client.groupApi.listGroups({ search: `profile.name eq ${quoted(name)}` }),
    (found) => found.profile?.name === name,
  );
  return group?.id ? { id: group.id, description: group.profile?.description ?? undefined } : undefined;
}

export async function findGroupId(client: Client, name: string): Promise<string | undefined> {
  return (await findGroup(client, name))?.id;
}

export async function ensureGroup(client: Client, name: string, description: string): Promise<string> {
  const existing = await findGroupId(client, name);
  if (existing) return existing;
  try {
    const created = await client.groupApi.createGroup({ group: { profile: { name, description } } });
    if (created.id) return created.id;
  } catch (err) {
    if (!isAlreadyExists(err)) throw oktaFailure(`creating the admin group ${name}`, err);
  }
  const raced = await findGroupId(client, name);
  if (raced) return raced;
  throw new TransientError(`Okta did not return the admin group ${name} after creating it`);
}

/** Looks a person up by login; the lookup by login is never served from the SDK's cache. */
export async function findUser(client: Client, login: string): Promise<User | undefined> {
  try {
    return await client.userApi.getUser({ userId: login });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw oktaFailure(`looking up the admin user ${login}`, err);
  }
}

export async function ensureMember(client: Client, groupId: string, userId: string): Promise<void> {
  await call('adding the admin user to the admin group', () => client.groupApi.assignUserToGroup({ groupId, userId }));
}

export async function isMember(client: Client, groupId: string, userId: string): Promise<boolean> {
  const member = await findFirst(
    'listing the admin group members',
    () => client.groupApi.listGroupUsers({ groupId }),
    (user) => user.id === userId,
  );
  return member !== undefined;
}

export type AdminRequest = { login: string; companyName: string; adminUserType: string; groupId: string };
/** `created`: an sso step made this person (the userType marker); `createdNow`: this very call did. */
export type Admin = { userId: string; created: boolean; createdNow: boolean };

async function reuse(client: Client, userId: string, user: User, request: AdminRequest): Promise<Admin> {
  const created = user.profile?.userType === request.adminUserType;
  if (user.status === 'DEPROVISIONED') {
    if (!created) {
      throw new PermanentError(
        `${request.login} already has an Okta account, but it is deactivated: reactivate it in Okta or choose another admin email`,
      );
    }
    // Ours, deactivated by a rollback that stopped half-way: bring it back and send a fresh activation email.
    await call(`reactivating the admin user ${request.login}`, () => client.userApi.activateUser({ userId, sendEmail: true }));
  }
  await ensureMember(client, request.groupId, userId);
  return { userId, created, createdNow: false };
}

/** Finds or creates the customer's admin, in the admin group; an existing account is reused, never changed. */
export async function ensureAdmin(client: Client, request: AdminRequest): Promise<Admin> {
  const existing = await findUser(client, request.login);
  if (existing?.id) return reuse(client, existing.id, existing, request);
  try {
    const created = await client.userApi.createUser({
      body: {
        profile: {
          login: request.login,
          email: request.login,
          ...namesFromEmail(request.login),
          organization: request.companyName,
          userType: request.adminUserType,
        },
        groupIds: [request.groupId],
      },
      // No password: Okta emails the admin an activation link.
      activate: true,
    });
    if (created.id) return { userId: created.id, created: true, createdNow: true };
  } catch (err) {
    if (!isAlreadyExists(err)) throw oktaFailure(`creating the admin user ${request.login}`, err);
  }
  const raced = await findUser(client, request.login);
  if (raced?.id) return reuse(client, raced.id, raced, request);
  throw new TransientError(`Okta did not return the admin user ${request.login} after creating it`);
}
