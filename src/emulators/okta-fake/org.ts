/**
 * What the fake Okta org holds. Records keep only what the routes need;
 * each route file renders its records in Okta's JSON shape.
 */
import type { JsonObject } from './wire.ts';

export type UserStatus = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'DEPROVISIONED';

export type GroupRecord = {
  id: string;
  name: string;
  description: string | null;
  created: string;
  lastUpdated: string;
  lastMembershipUpdated: string;
  members: Set<string>;
};

export type UserRecord = {
  id: string;
  status: UserStatus;
  created: string;
  activated: string | null;
  statusChanged: string | null;
  lastUpdated: string;
  passwordChanged: string | null;
  profile: JsonObject;
};

export type AppRecord = {
  id: string;
  name: string;
  label: string;
  status: 'ACTIVE' | 'INACTIVE';
  signOnMode: string;
  created: string;
  lastUpdated: string;
  settings: JsonObject;
  credentials: JsonObject;
  /** Assigned group id → assignment. */
  groups: Map<string, { priority: number; lastUpdated: string }>;
};

export type IdpKeyRecord = {
  /** Okta calls it `kid`; `id` lets the pager treat keys like other resources. */
  id: string;
  created: string;
  lastUpdated: string;
  certificate: string;
  thumbprint: string;
  expiresAt: string;
  n: string;
  e: string;
};

export type IdpRecord = {
  id: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  created: string;
  lastUpdated: string;
  protocol: JsonObject;
  policy: JsonObject;
  kid: string;
  issuer: string;
  ssoUrl: string;
};

export type Org = {
  /** Where the fake listens, for `_links` and Link headers. */
  baseUrl: string;
  /** Items per page when the client sends no `limit`. */
  pageSize: number;
  groups: Map<string, GroupRecord>;
  users: Map<string, UserRecord>;
  apps: Map<string, AppRecord>;
  idps: Map<string, IdpRecord>;
  idpKeys: Map<string, IdpKeyRecord>;
};

export function emptyOrg(pageSize: number): Org {
  return { baseUrl: '', pageSize, groups: new Map(), users: new Map(), apps: new Map(), idps: new Map(), idpKeys: new Map() };
}

export function loginOf(user: UserRecord): string {
  const login = user.profile['login'];
  return typeof login === 'string' ? login : '';
}

/** Logins are unique and compared case-insensitively, as Okta does. */
export function userByIdOrLogin(org: Org, idOrLogin: string): UserRecord | undefined {
  const byId = org.users.get(idOrLogin);
  if (byId) return byId;
  const wanted = idOrLogin.toLowerCase();
  return [...org.users.values()].find((user) => loginOf(user).toLowerCase() === wanted);
}

/** A user or group leaving the org leaves every membership and assignment with it. */
export function forgetGroup(org: Org, groupId: string): void {
  org.groups.delete(groupId);
  for (const app of org.apps.values()) app.groups.delete(groupId);
}

export function forgetUser(org: Org, userId: string): void {
  org.users.delete(userId);
  for (const group of org.groups.values()) group.members.delete(userId);
}
