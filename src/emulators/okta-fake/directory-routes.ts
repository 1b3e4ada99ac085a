/**
 * Groups, users and memberships, as /api/v1/groups and /api/v1/users
 * answer them: unique group names and logins, users deleted only once
 * deactivated (a DELETE on an active user deactivates it, like Okta).
 */
import { z } from 'zod';
import { forgetGroup, forgetUser, userByIdOrLogin, type GroupRecord, type Org, type UserRecord } from './org.ts';
import { searched } from './search.ts';
import { NO_CONTENT, OktaFakeError, jsonObject, now, ok, oktaId, paged, parseBody, type Json, type Route } from './wire.ts';

const DUPLICATE = 'An object with this field already exists in the current organization';

function renderGroup(org: Org, group: GroupRecord): Json {
  const href = `${org.baseUrl}/api/v1/groups/${group.id}`;
  return {
    id: group.id,
    created: group.created,
    lastUpdated: group.lastUpdated,
    lastMembershipUpdated: group.lastMembershipUpdated,
    objectClass: ['okta:user_group'],
    type: 'OKTA_GROUP',
    profile: { name: group.name, description: group.description },
    _links: { users: { href: `${href}/users` }, apps: { href: `${href}/apps` } },
  };
}

function renderUser(org: Org, user: UserRecord): Json {
  return {
    id: user.id,
    status: user.status,
    created: user.created,
    activated: user.activated,
    statusChanged: user.statusChanged,
    lastLogin: null,
    lastUpdated: user.lastUpdated,
    passwordChanged: user.passwordChanged,
    type: { id: 'oty1fakeDefaultUserT0' },
    profile: user.profile,
    credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
    _links: { self: { href: `${org.baseUrl}/api/v1/users/${user.id}` } },
  };
}

export function groupOf(org: Org, id: string): GroupRecord {
  const group = org.groups.get(id);
  if (!group) throw OktaFakeError.notFound(id, 'UserGroup');
  return group;
}

function userOf(org: Org, idOrLogin: string): UserRecord {
  const user = userByIdOrLogin(org, idOrLogin);
  if (!user) throw OktaFakeError.notFound(idOrLogin, 'User');
  return user;
}

const newGroup = z.object({ profile: z.object({ name: z.string().trim().min(1), description: z.string().nullish() }) });

function createGroup(org: Org, body: unknown): Json {
  const { profile } = parseBody(newGroup, body);
  const taken = [...org.groups.values()].some((group) => group.name.toLowerCase() === profile.name.toLowerCase());
  if (taken) throw OktaFakeError.validation('name', DUPLICATE);
  const at = now();
  const group: GroupRecord = {
    id: oktaId('00g'),
    name: profile.name,
    description: profile.description ?? null,
    created: at,
    lastUpdated: at,
    lastMembershipUpdated: at,
    members: new Set(),
  };
  org.groups.set(group.id, group);
  return renderGroup(org, group);
}

function namePrefixed(query: URLSearchParams, groups: Iterable<GroupRecord>): GroupRecord[] {
  const q = query.get('q')?.toLowerCase();
  return [...groups].filter((group) => q === undefined || group.name.toLowerCase().startsWith(q));
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const newUser = z.object({
  profile: jsonObject.and(
    z.object({
      login: z.string().regex(EMAIL, { error: 'Username must be in the form of an email address' }),
      email: z.string().regex(EMAIL, { error: 'Does not match required pattern' }),
      firstName: z.string().min(1),
      lastName: z.string().min(1),
    }),
  ),
  credentials: z.object({ password: z.object({ value: z.string().min(8) }).optional() }).optional(),
  groupIds: z.array(z.string()).optional(),
});

function createUser(org: Org, body: unknown, query: URLSearchParams): Json {
  const request = parseBody(newUser, body);
  if (userByIdOrLogin(org, request.profile.login)) throw OktaFakeError.validation('login', DUPLICATE);
  const groups = (request.groupIds ?? []).map((id) => groupOf(org, id));
  const at = now();
  const activate = query.get('activate') !== 'false';
  const hasPassword = request.credentials?.password !== undefined;
  const user: UserRecord = {
    id: oktaId('00u'),
    // Without a password Okta emails an activation link: the user stays PROVISIONED until they follow it.
    status: !activate ? 'STAGED' : hasPassword ? 'ACTIVE' : 'PROVISIONED',
    created: at,
    activated: activate ? at : null,
    statusChanged: activate ? at : null,
    lastUpdated: at,
    passwordChanged: hasPassword ? at : null,
    profile: { ...request.profile, mobilePhone: null, secondEmail: null },
  };
  org.users.set(user.id, user);
  for (const group of groups) group.members.add(user.id);
  return renderUser(org, user);
}

function setStatus(user: UserRecord, status: UserRecord['status']): void {
  const at = now();
  user.status = status;
  user.statusChanged = at;
  user.lastUpdated = at;
}

function deleteUser(org: Org, idOrLogin: string): void {
  const user = userOf(org, idOrLogin);
  if (user.status === 'DEPROVISIONED') forgetUser(org, user.id);
  else setStatus(user, 'DEPROVISIONED');
}

function deactivateUser(org: Org, idOrLogin: string): Json {
  const user = userOf(org, idOrLogin);
  if (user.status === 'DEPROVISIONED') throw new OktaFakeError(403, 'E0000038');
  setStatus(user, 'DEPROVISIONED');
  return {};
}

function activateUser(org: Org, idOrLogin: string): Json {
  const user = userOf(org, idOrLogin);
  if (user.status === 'ACTIVE') throw new OktaFakeError(403, 'E0000016', 'Activation failed because the user is already active');
  setStatus(user, user.passwordChanged === null ? 'PROVISIONED' : 'ACTIVE');
  return {};
}

function member(org: Org, groupId: string, userId: string): { group: GroupRecord; user: UserRecord } {
  return { group: groupOf(org, groupId), user: userOf(org, userId) };
}

export function directoryRoutes(org: Org): Route[] {
  const id = '([^/]+)';
  const group = (call: { params: readonly string[] }) => groupOf(org, call.params[0] ?? '');
  const user = (call: { params: readonly string[] }) => call.params[0] ?? '';
  return [
    { method: 'POST', pattern: /^\/api\/v1\/groups$/, handle: (call) => ok(createGroup(org, call.body)) },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/groups$/,
      handle: (call) => {
        const found = searched(call.query, namePrefixed(call.query, org.groups.values()), (g) => renderGroup(org, g));
        return paged(call, found, (g) => renderGroup(org, g), org.pageSize);
      },
    },
    { method: 'GET', pattern: new RegExp(`^/api/v1/groups/${id}$`), handle: (call) => ok(renderGroup(org, group(call))) },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/groups/${id}$`),
      handle: (call) => {
        forgetGroup(org, group(call).id);
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/groups/${id}/users$`),
      handle: (call) => {
        const members = [...group(call).members].flatMap((userId) => org.users.get(userId) ?? []);
        return paged(call, members, (u) => renderUser(org, u), org.pageSize);
      },
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/api/v1/groups/${id}/users/${id}$`),
      handle: (call) => {
        const found = member(org, call.params[0] ?? '', call.params[1] ?? '');
        found.group.members.add(found.user.id);
        found.group.lastMembershipUpdated = now();
        return NO_CONTENT;
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/groups/${id}/users/${id}$`),
      handle: (call) => {
        const found = member(org, call.params[0] ?? '', call.params[1] ?? '');
        found.group.members.delete(found.user.id);
        return NO_CONTENT;
      },
    },
    { method: 'POST', pattern: /^\/api\/v1\/users$/, handle: (call) => ok(createUser(org, call.body, call.query)) },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/users$/,
      handle: (call) => {
        const found = searched(call.query, org.users.values(), (u) => renderUser(org, u));
        return paged(call, found, (u) => renderUser(org, u), org.pageSize);
      },
    },
    { method: 'GET', pattern: new RegExp(`^/api/v1/users/${id}$`), handle: (call) => ok(renderUser(org, userOf(org, user(call)))) },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/users/${id}$`),
      handle: (call) => {
        deleteUser(org, user(call));
        return NO_CONTENT;
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/v1/users/${id}/lifecycle/deactivate$`),
      handle: (call) => ok(deactivateUser(org, user(call))),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/v1/users/${id}/lifecycle/activate$`),
      handle: (call) => ok(activateUser(org, user(call))),
    },
  ];
}
