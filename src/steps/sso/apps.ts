/**
 * The tenant's Okta app (OIDC web app or custom SAML 2.0 app) and its
 * assignment to the admin group. Okta allows two apps with one label, so
 * the label is searched before every create; assignment is a PUT and so
 * idempotent. The OIDC client secret stays in Okta: only the client id
 * ever leaves this file.
 */
import type { Application, Client, OpenIdConnectApplication, SamlApplication } from '@okta/okta-sdk-nodejs';
import { z } from 'zod';
import { PermanentError, TransientError } from '../../domain/errors.ts';
import { call, collect, findFirst } from './okta-calls.ts';

export type TenantApp = { appId: string; clientId: string | undefined };

const oidcClient = z.object({ credentials: z.object({ oauthClient: z.object({ client_id: z.string().min(1) }) }) });

function clientIdOf(app: Application): string | undefined {
  const parsed = oidcClient.safeParse(app);
  return parsed.success ? parsed.data.credentials.oauthClient.client_id : undefined;
}

/** Every app with exactly this label (Okta's `q` matches label prefixes). */
export async function findApps(client: Client, label: string): Promise<Application[]> {
  return collect(
    'looking up the tenant app',
    () => client.applicationApi.listApplications({ q: label }),
    (app) => app.label === label,
  );
}

/** Okta's admin notes on the app, when the request brings one (see AppRequest.adminNote). */
function notes(adminNote: string | undefined): { notes?: { admin: string } } {
  return adminNote === undefined ? {} : { notes: { admin: adminNote } };
}

function oidcApp(label: string, redirectUri: string, adminNote: string | undefined): OpenIdConnectApplication {
  return {
    name: 'oidc_client',
    label,
    signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_basic', autoKeyRotation: true } },
    settings: {
      ...notes(adminNote),
      oauthClient: {
        application_type: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [new URL(redirectUri).origin],
      },
    },
  };
}

export type SamlTarget = { acsUrl: string; audience: string };

function samlApp(label: string, target: SamlTarget, adminNote: string | undefined): SamlApplication {
  return {
    label,
    signOnMode: 'SAML_2_0',
    settings: {
      ...notes(adminNote),
      signOn: {
        ssoAcsUrl: target.acsUrl,
        recipient: target.acsUrl,
        destination: target.acsUrl,
        audience: target.audience,
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
      },
    },
  };
}

export type AppRequest = (
  | { label: string; kind: 'OPENID_CONNECT'; redirectUri: string }
  | { label: string; kind: 'SAML_2_0'; target: SamlTarget }
) & {
  /** Written to the app's admin notes when it is created (never to an app found): says which job made it. */
  adminNote?: string;
};

/** Finds the app by label (reactivating one a half-finished rollback left inactive) or creates it. */
export async function ensureApp(client: Client, request: AppRequest): Promise<TenantApp> {
  const [existing] = await findApps(client, request.label);
  if (existing?.id) {
    const appId = existing.id;
    if (existing.signOnMode !== request.kind) {
      throw new PermanentError(
        `An Okta app labelled "${request.label}" already exists with sign-on mode ${existing.signOnMode}, not ${request.kind}: remove or rename it in Okta first`,
      );
    }
    if (existing.status === 'INACTIVE') await call('reactivating the tenant app', () => client.applicationApi.activateApplication({ appId }));
    return { appId, clientId: clientIdOf(existing) };
  }
  const application =
    request.kind === 'OPENID_CONNECT'
      ? oidcApp(request.label, request.redirectUri, request.adminNote)
      : samlApp(request.label, request.target, request.adminNote);
  const created = await call(`creating the Okta app "${request.label}"`, () => client.applicationApi.createApplication({ application }));
  if (!created.id) throw new TransientError(`Okta returned no id for the new app "${request.label}"`);
  return { appId: created.id, clientId: clientIdOf(created) };
}

export async function ensureAssigned(client: Client, appId: string, groupId: string): Promise<void> {
  await call('assigning the tenant app to the admin group', () =>
    client.applicationApi.assignGroupToApplication({ appId, groupId, applicationGroupAssignment: {} }),
  );
}

export async function isAssigned(client: Client, appId: string, groupId: string): Promise<boolean> {
  const found = await findFirst(
    'listing the tenant app assignments',
    () => client.applicationApi.listApplicationGroupAssignments({ appId }),
    (assignment) => assignment.id === groupId,
  );
  return found !== undefined;
}
