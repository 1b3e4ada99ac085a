/**
 * Identity providers for "bring your own SAML IdP": the signing
 * certificate is uploaded first as an IdP key (checked as a real X.509
 * certificate), then a SAML2 IdP trusts that key by kid.
 */
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { IdpKeyRecord, IdpRecord, Org } from './org.ts';
import { NO_CONTENT, OktaFakeError, jsonObject, now, ok, oktaId, paged, parseBody, type Json, type JsonObject, type Route } from './wire.ts';

function renderKey(key: IdpKeyRecord): Json {
  return {
    kid: key.id,
    created: key.created,
    lastUpdated: key.lastUpdated,
    e: key.e,
    n: key.n,
    kty: 'RSA',
    use: 'sig',
    x5c: [key.certificate],
    'x5t#S256': key.thumbprint,
    expiresAt: key.expiresAt,
  };
}

function renderIdp(org: Org, idp: IdpRecord): Json {
  const href = `${org.baseUrl}/api/v1/idps/${idp.id}`;
  return {
    id: idp.id,
    type: 'SAML2',
    issuerMode: 'ORG_URL',
    name: idp.name,
    status: idp.status,
    created: idp.created,
    lastUpdated: idp.lastUpdated,
    protocol: idp.protocol,
    policy: idp.policy,
    _links: {
      metadata: { href: `${href}/metadata.xml`, type: 'application/xml' },
      acs: { href: `${org.baseUrl}/sso/saml2/${idp.id}`, type: 'application/xml' },
      users: { href: `${href}/users` },
      deactivate: { href: `${href}/lifecycle/deactivate` },
    },
  };
}

function parseCertificate(base64: string): { certificate: X509Certificate; der: Buffer } {
  try {
    const der = Buffer.from(base64, 'base64');
    return { certificate: new X509Certificate(der), der };
  } catch {
    throw OktaFakeError.validation('x5c', 'The certificate is not a valid X.509 certificate');
  }
}

const newKey = z.object({ x5c: z.array(z.string().min(1)).length(1) });
const jwk = z.object({ n: z.string(), e: z.string() });

function createKey(org: Org, body: unknown): Json {
  const [encoded = ''] = parseBody(newKey, body).x5c;
  const { certificate, der } = parseCertificate(encoded.replace(/\s+/g, ''));
  const publicKey = jwk.safeParse(certificate.publicKey.export({ format: 'jwk' }));
  if (!publicKey.success) throw OktaFakeError.validation('x5c', 'Only RSA certificates are supported');
  const at = now();
  const key: IdpKeyRecord = {
    id: randomUUID(),
    created: at,
    lastUpdated: at,
    certificate: der.toString('base64'),
    thumbprint: createHash('sha256').update(der).digest('base64url'),
    expiresAt: new Date(certificate.validTo).toISOString(),
    n: publicKey.data.n,
    e: publicKey.data.e,
  };
  org.idpKeys.set(key.id, key);
  return renderKey(key);
}

function keyOf(org: Org, kid: string): IdpKeyRecord {
  const key = org.idpKeys.get(kid);
  if (!key) throw OktaFakeError.notFound(kid, 'IdpKey');
  return key;
}

function deleteKey(org: Org, kid: string): void {
  const key = keyOf(org, kid);
  // Okta refuses to drop a key an IdP still trusts (exact wording approximated).
  if ([...org.idps.values()].some((idp) => idp.kid === key.id)) {
    throw OktaFakeError.validation('kid', 'The key is in use by an identity provider');
  }
  org.idpKeys.delete(key.id);
}

const newIdp = z.object({
  type: z.literal('SAML2'),
  name: z.string().trim().min(1).max(100),
  protocol: jsonObject.and(
    z.object({
      type: z.literal('SAML2'),
      endpoints: z.object({ sso: z.object({ url: z.url(), binding: z.enum(['HTTP-POST', 'HTTP-REDIRECT']) }) }),
      credentials: z.object({ trust: z.object({ issuer: z.string().min(1), kid: z.string().min(1) }) }),
    }),
  ),
  policy: jsonObject.optional(),
});

const DEFAULT_POLICY: JsonObject = {
  provisioning: { action: 'AUTO', profileMaster: false, groups: { action: 'NONE' } },
  accountLink: { action: 'AUTO', filter: null },
  subject: { userNameTemplate: { template: 'idpuser.subjectNameId' }, matchType: 'USERNAME' },
  maxClockSkew: 120000,
};

/** Creates the IdP, or replaces the one with `replacing` id (PUT keeps id, status and creation time). */
function saveIdp(org: Org, body: unknown, replacing?: IdpRecord): Json {
  const request = parseBody(newIdp, body);
  const kid = request.protocol.credentials.trust.kid;
  if (!org.idpKeys.has(kid)) throw OktaFakeError.validation('protocol.credentials.trust.kid', `No IdP key with kid ${kid}`);
  const sameName = (idp: IdpRecord) => idp.id !== replacing?.id && idp.name.toLowerCase() === request.name.toLowerCase();
  if ([...org.idps.values()].some(sameName)) {
    throw OktaFakeError.validation('name', 'An object with this field already exists in the current organization');
  }
  const at = now();
  const id = replacing?.id ?? oktaId('0oa');
  const endpoints: JsonObject = { ...request.protocol.endpoints, acs: { binding: 'HTTP-POST', type: 'INSTANCE' } };
  const idp: IdpRecord = {
    id,
    name: request.name,
    status: replacing?.status ?? 'ACTIVE',
    created: replacing?.created ?? at,
    lastUpdated: at,
    protocol: { ...request.protocol, endpoints },
    policy: request.policy ?? DEFAULT_POLICY,
    kid,
    issuer: request.protocol.credentials.trust.issuer,
    ssoUrl: request.protocol.endpoints.sso.url,
  };
  org.idps.set(id, idp);
  return renderIdp(org, idp);
}

function idpOf(org: Org, id: string): IdpRecord {
  const idp = org.idps.get(id);
  if (!idp) throw OktaFakeError.notFound(id, 'IdpAppInstance');
  return idp;
}

function listed(org: Org, query: URLSearchParams): IdpRecord[] {
  const q = query.get('q')?.toLowerCase();
  const type = query.get('type');
  return [...org.idps.values()].filter((idp) => (q === undefined || idp.name.toLowerCase().startsWith(q)) && (type === null || type === 'SAML2'));
}

export function idpRoutes(org: Org): Route[] {
  const id = '([^/]+)';
  const idp = (call: { params: readonly string[] }) => idpOf(org, call.params[0] ?? '');
  const render = (found: IdpRecord) => renderIdp(org, found);
  return [
    { method: 'POST', pattern: /^\/api\/v1\/idps\/credentials\/keys$/, handle: (call) => ok(createKey(org, call.body)) },
    { method: 'GET', pattern: /^\/api\/v1\/idps\/credentials\/keys$/, handle: (call) => paged(call, org.idpKeys.values(), renderKey, org.pageSize) },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/idps/credentials/keys/${id}$`),
      handle: (call) => ok(renderKey(keyOf(org, call.params[0] ?? ''))),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/idps/credentials/keys/${id}$`),
      handle: (call) => {
        deleteKey(org, call.params[0] ?? '');
        return NO_CONTENT;
      },
    },
    { method: 'POST', pattern: /^\/api\/v1\/idps$/, handle: (call) => ok(saveIdp(org, call.body)) },
    { method: 'GET', pattern: /^\/api\/v1\/idps$/, handle: (call) => paged(call, listed(org, call.query), render, org.pageSize) },
    { method: 'GET', pattern: new RegExp(`^/api/v1/idps/${id}$`), handle: (call) => ok(render(idp(call))) },
    { method: 'PUT', pattern: new RegExp(`^/api/v1/idps/${id}$`), handle: (call) => ok(saveIdp(org, call.body, idp(call))) },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/idps/${id}$`),
      handle: (call) => {
        org.idps.delete(idp(call).id);
        return NO_CONTENT;
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/v1/idps/${id}/lifecycle/(activate|deactivate)$`),
      handle: (call) => {
        const found = idp(call);
        found.status = call.params[1] === 'activate' ? 'ACTIVE' : 'INACTIVE';
        found.lastUpdated = now();
        return ok(render(found));
      },
    },
  ];
}
