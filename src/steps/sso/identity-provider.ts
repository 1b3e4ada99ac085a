/**
 * The customer's SAML IdP in Okta: their signing certificate as an IdP key
 * (found by its certificate before uploading), then a SAML2 identity
 * provider trusting that key, found by its deterministic name. When the
 * customer sends new metadata the existing IdP is updated in place.
 */
import type { Client, IdentityProvider } from '@okta/okta-sdk-nodejs';
import { z } from 'zod';
import { TransientError } from '../../domain/errors.ts';
import { call, findFirst, isAlreadyExists, oktaFailure, removeIfPresent } from './okta-calls.ts';
import type { IdpMetadata } from './saml-metadata.ts';

export type CustomerIdp = { idpId: string; keyId: string };

async function ensureKey(client: Client, certificate: string): Promise<string> {
  const existing = await findFirst(
    "looking up the customer's signing certificate",
    () => client.identityProviderApi.listIdentityProviderKeys(),
    (key) => key.x5c?.[0] === certificate,
  );
  if (existing?.kid) return existing.kid;
  const created = await call("uploading the customer's signing certificate", () =>
    client.identityProviderApi.createIdentityProviderKey({ jsonWebKey: { x5c: [certificate] } }),
  );
  if (!created.kid) throw new TransientError('Okta returned no key id for the uploaded signing certificate');
  return created.kid;
}

export async function findIdp(client: Client, name: string): Promise<IdentityProvider | undefined> {
  return findFirst(
    "looking up the customer's identity provider",
    () => client.identityProviderApi.listIdentityProviders({ q: name, type: 'SAML2' }),
    (idp) => idp.name === name,
  );
}

const trusted = z.object({
  endpoints: z.object({ sso: z.object({ url: z.string(), binding: z.string().optional() }) }),
  credentials: z.object({ trust: z.object({ issuer: z.string(), kid: z.string() }) }),
});

/** The key an IdP trusts, for rollback: read before the IdP is deleted. */
export function trustedKeyId(idp: IdentityProvider): string | undefined {
  const parsed = trusted.safeParse(idp.protocol);
  return parsed.success ? parsed.data.credentials.trust.kid : undefined;
}

function matches(idp: IdentityProvider, metadata: IdpMetadata, keyId: string): boolean {
  const parsed = trusted.safeParse(idp.protocol);
  if (!parsed.success) return false;
  const { endpoints, credentials } = parsed.data;
  return (
    endpoints.sso.url === metadata.ssoUrl &&
    endpoints.sso.binding === metadata.ssoBinding &&
    credentials.trust.issuer === metadata.entityId &&
    credentials.trust.kid === keyId
  );
}

function idpConfig(name: string, metadata: IdpMetadata, keyId: string): IdentityProvider {
  return {
    type: 'SAML2',
    name,
    protocol: {
      type: 'SAML2',
      endpoints: {
        sso: { url: metadata.ssoUrl, binding: metadata.ssoBinding, destination: metadata.ssoUrl },
        acs: { binding: 'HTTP-POST', type: 'INSTANCE' },
      },
      algorithms: {
        request: { signature: { algorithm: 'SHA-256', scope: 'REQUEST' } },
        response: { signature: { algorithm: 'SHA-256', scope: 'ANY' } },
      },
      credentials: { trust: { issuer: metadata.entityId, kid: keyId } },
    },
    policy: {
      // People signing in through the customer's IdP get an Okta account on first sign-in, matched by username.
      provisioning: { action: 'AUTO', profileMaster: false, groups: { action: 'NONE' } },
      accountLink: { action: 'AUTO' },
      subject: { userNameTemplate: { template: 'idpuser.subjectNameId' }, matchType: 'USERNAME' },
      maxClockSkew: 120000,
    },
  };
}

async function update(
  client: Client,
  idpId: string,
  idp: IdentityProvider,
  config: IdentityProvider,
  metadata: IdpMetadata,
  keyId: string,
): Promise<string> {
  if (!matches(idp, metadata, keyId)) {
    await call("updating the customer's identity provider", () =>
      client.identityProviderApi.replaceIdentityProvider({ idpId, identityProvider: config }),
    );
  }
  if (idp.status === 'INACTIVE') {
    await call("reactivating the customer's identity provider", () => client.identityProviderApi.activateIdentityProvider({ idpId }));
  }
  return idpId;
}

export async function ensureIdp(client: Client, name: string, metadata: IdpMetadata): Promise<CustomerIdp> {
  const keyId = await ensureKey(client, metadata.certificate);
  const config = idpConfig(name, metadata, keyId);
  const existing = await findIdp(client, name);
  if (existing?.id) return { idpId: await update(client, existing.id, existing, config, metadata, keyId), keyId };
  try {
    const created = await client.identityProviderApi.createIdentityProvider({ identityProvider: config });
    if (created.id) return { idpId: created.id, keyId };
  } catch (err) {
    if (!isAlreadyExists(err)) throw oktaFailure("creating the customer's identity provider", err);
  }
  const raced = await findIdp(client, name);
  if (raced?.id) return { idpId: await update(client, raced.id, raced, config, metadata, keyId), keyId };
  throw new TransientError(`Okta did not return the identity provider ${name} after creating it`);
}

/** Two tenants of one customer share its certificate, hence one key: it goes only with the last IdP trusting it. */
async function keyStillTrusted(client: Client, keyId: string): Promise<boolean> {
  const trusting = await findFirst(
    'checking which identity providers trust the certificate',
    () => client.identityProviderApi.listIdentityProviders({ type: 'SAML2' }),
    (idp) => trustedKeyId(idp) === keyId,
  );
  return trusting !== undefined;
}

/** Deactivates and deletes the IdP, then the key it trusted; anything already gone is fine. */
export async function removeIdp(client: Client, name: string, recordedKeyId: string | undefined): Promise<void> {
  const idp = await findIdp(client, name);
  const keyId = (idp && trustedKeyId(idp)) ?? recordedKeyId;
  if (idp?.id) {
    const idpId = idp.id;
    if (idp.status === 'ACTIVE') {
      await removeIfPresent("deactivating the customer's identity provider", () => client.identityProviderApi.deactivateIdentityProvider({ idpId }));
    }
    await removeIfPresent("deleting the customer's identity provider", () => client.identityProviderApi.deleteIdentityProvider({ idpId }));
  }
  if (keyId && !(await keyStillTrusted(client, keyId))) {
    await removeIfPresent("deleting the customer's signing certificate", () => client.identityProviderApi.deleteIdentityProviderKey({ keyId }));
  }
}
