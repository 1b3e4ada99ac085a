/**
 * Applications (OIDC web apps and custom SAML 2.0 apps) and their group
 * assignments. Labels need not be unique, as in Okta, so callers must look
 * before they create; an app must be deactivated before it can be deleted.
 */
import { z } from 'zod';
import { groupOf } from './directory-routes.ts';
import type { AppRecord, Org } from './org.ts';
import { searched } from './search.ts';
import {
  NO_CONTENT,
  OktaFakeError,
  jsonObject,
  now,
  ok,
  oktaId,
  paged,
  parseBody,
  randomText,
  type Json,
  type JsonObject,
  type Route,
} from './wire.ts';

function renderApp(org: Org, app: AppRecord): Json {
  const href = `${org.baseUrl}/api/v1/apps/${app.id}`;
  const links: JsonObject = {
    groups: { href: `${href}/groups` },
    users: { href: `${href}/users` },
    deactivate: { href: `${href}/lifecycle/deactivate` },
  };
  if (app.signOnMode === 'SAML_2_0') links['metadata'] = { href: `${href}/sso/saml/metadata`, type: 'application/xml' };
  return {
    id: app.id,
    name: app.name,
    label: app.label,
    status: app.status,
    created: app.created,
    lastUpdated: app.lastUpdated,
    signOnMode: app.signOnMode,
    accessibility: { selfService: false, errorRedirectUrl: null, loginRedirectUrl: null },
    visibility: { autoSubmitToolbar: false, hide: { iOS: false, web: false }, appLinks: {} },
    features: [],
    credentials: app.credentials,
    settings: app.settings,
    _links: links,
  };
}

function appOf(org: Org, id: string): AppRecord {
  const app = org.apps.get(id);
  if (!app) throw OktaFakeError.notFound(id, 'AppInstance');
  return app;
}

const common = { label: z.string().trim().min(1) };
const appNotes = z.object({
  settings: z.object({ notes: z.object({ admin: z.string().nullish(), enduser: z.string().nullish() }).optional() }).optional(),
});
const oidcApp = z.object({
  ...common,
  name: z.literal('oidc_client'),
  signOnMode: z.literal('OPENID_CONNECT'),
  credentials: z.object({ oauthClient: z.object({ token_endpoint_auth_method: z.string().optional() }).optional() }).optional(),
  settings: z.object({
    oauthClient: jsonObject.and(
      z.object({
        grant_types: z.array(z.string()).min(1),
        redirect_uris: z.array(z.url()).optional(),
        application_type: z.enum(['web', 'native', 'browser', 'service']).optional(),
      }),
    ),
  }),
});
const samlApp = z.object({
  ...common,
  signOnMode: z.literal('SAML_2_0'),
  settings: z.object({ signOn: jsonObject.and(z.object({ ssoAcsUrl: z.url(), audience: z.string().min(1) })) }),
});
const signOnMode = z.object({ signOnMode: z.enum(['OPENID_CONNECT', 'SAML_2_0'], { error: 'This sign-on mode is not supported here' }) });

/** The admin's and end users' notes on the app, kept as Okta keeps them (`settings.notes`). */
function notesOf(body: unknown): JsonObject {
  const given = parseBody(appNotes, body).settings?.notes;
  return given ? { notes: { admin: given.admin ?? null, enduser: given.enduser ?? null } } : {};
}

function oidcParts(body: unknown, id: string): Pick<AppRecord, 'name' | 'label' | 'settings' | 'credentials' | 'signOnMode'> {
  const app = parseBody(oidcApp, body);
  const grants = app.settings.oauthClient.grant_types;
  if (grants.includes('authorization_code') && (app.settings.oauthClient.redirect_uris ?? []).length === 0) {
    throw OktaFakeError.validation('redirect_uris', 'The field cannot be left blank');
  }
  const method = app.credentials?.oauthClient?.token_endpoint_auth_method ?? 'client_secret_basic';
  // Okta uses the app id as the client id; a confidential client also gets a secret.
  const oauthClient: JsonObject = { autoKeyRotation: true, client_id: id, token_endpoint_auth_method: method, pkce_required: false };
  if (method !== 'none') oauthClient['client_secret'] = randomText(40);
  return {
    name: app.name,
    label: app.label,
    signOnMode: app.signOnMode,
    settings: { app: {}, oauthClient: app.settings.oauthClient, ...notesOf(body) },
    credentials: { userNameTemplate: { template: '${source.login}', type: 'BUILT_IN' }, oauthClient },
  };
}

function samlParts(body: unknown): Pick<AppRecord, 'name' | 'label' | 'settings' | 'credentials' | 'signOnMode'> {
  const app = parseBody(samlApp, body);
  const slug = app.label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')
    .slice(0, 30);
  return {
    name: `fakeorg_${slug}_1`,
    label: app.label,
    signOnMode: app.signOnMode,
    settings: { app: {}, signOn: app.settings.signOn, ...notesOf(body) },
    credentials: { userNameTemplate: { template: '${source.login}', type: 'BUILT_IN' }, signing: { kid: randomText(43) } },
  };
}

function createApp(org: Org, body: unknown, query: URLSearchParams): Json {
  const { signOnMode: mode } = parseBody(signOnMode, body);
  const id = oktaId('0oa');
  const parts = mode === 'OPENID_CONNECT' ? oidcParts(body, id) : samlParts(body);
  const at = now();
  const app: AppRecord = {
    ...parts,
    id,
    status: query.get('activate') === 'false' ? 'INACTIVE' : 'ACTIVE',
    created: at,
    lastUpdated: at,
    groups: new Map(),
  };
  org.apps.set(id, app);
  return renderApp(org, app);
}

function labelPrefixed(query: URLSearchParams, apps: Iterable<AppRecord>): AppRecord[] {
  const q = query.get('q')?.toLowerCase();
  if (q === undefined) return [...apps];
  return [...apps].filter((app) => app.label.toLowerCase().startsWith(q) || app.name.toLowerCase().startsWith(q));
}

function setStatus(app: AppRecord, status: AppRecord['status']): Json {
  app.status = status;
  app.lastUpdated = now();
  return {};
}

function deleteApp(org: Org, app: AppRecord): void {
  if (app.status === 'ACTIVE') {
    throw new OktaFakeError(403, 'E0000056', undefined, ['Applications must be deactivated before deletion.']);
  }
  org.apps.delete(app.id);
}

const assignment = z.object({ priority: z.number().int().min(0).optional(), profile: jsonObject.optional() });

function renderAssignment(org: Org, appId: string, groupId: string, value: { priority: number; lastUpdated: string }): Json {
  return {
    id: groupId,
    lastUpdated: value.lastUpdated,
    priority: value.priority,
    profile: {},
    _links: { app: { href: `${org.baseUrl}/api/v1/apps/${appId}` }, group: { href: `${org.baseUrl}/api/v1/groups/${groupId}` } },
  };
}

function assign(org: Org, app: AppRecord, groupId: string, body: unknown): Json {
  const group = groupOf(org, groupId);
  const request = parseBody(assignment, body);
  const value = { priority: request.priority ?? app.groups.get(group.id)?.priority ?? app.groups.size, lastUpdated: now() };
  app.groups.set(group.id, value);
  return renderAssignment(org, app.id, group.id, value);
}

export function appRoutes(org: Org): Route[] {
  const id = '([^/]+)';
  const app = (call: { params: readonly string[] }) => appOf(org, call.params[0] ?? '');
  const render = (a: AppRecord) => renderApp(org, a);
  return [
    { method: 'POST', pattern: /^\/api\/v1\/apps$/, handle: (call) => ok(createApp(org, call.body, call.query)) },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/apps$/,
      handle: (call) => paged(call, searched(call.query, labelPrefixed(call.query, org.apps.values()), render), render, org.pageSize),
    },
    { method: 'GET', pattern: new RegExp(`^/api/v1/apps/${id}$`), handle: (call) => ok(render(app(call))) },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/apps/${id}$`),
      handle: (call) => {
        deleteApp(org, app(call));
        return NO_CONTENT;
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/v1/apps/${id}/lifecycle/(activate|deactivate)$`),
      handle: (call) => ok(setStatus(app(call), call.params[1] === 'activate' ? 'ACTIVE' : 'INACTIVE')),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/apps/${id}/groups$`),
      handle: (call) => {
        const found = app(call);
        const rows = [...found.groups].map(([groupId, value]) => ({ id: groupId, value }));
        return paged(call, rows, (row) => renderAssignment(org, found.id, row.id, row.value), org.pageSize);
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/apps/${id}/groups/${id}$`),
      handle: (call) => {
        const found = app(call);
        const groupId = call.params[1] ?? '';
        const value = found.groups.get(groupId);
        if (!value) throw OktaFakeError.notFound(groupId, 'AppGroupAssignment');
        return ok(renderAssignment(org, found.id, groupId, value));
      },
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/api/v1/apps/${id}/groups/${id}$`),
      handle: (call) => ok(assign(org, app(call), call.params[1] ?? '', call.body)),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/apps/${id}/groups/${id}$`),
      handle: (call) => {
        app(call).groups.delete(call.params[1] ?? '');
        return NO_CONTENT;
      },
    },
  ];
}
