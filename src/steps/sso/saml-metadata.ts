/**
 * Reads the three facts Okta needs from a customer's SAML 2.0 IdP metadata:
 * the issuer (EntityDescriptor entityID), where to send people to sign in
 * (IDPSSODescriptor SingleSignOnService, HTTP-POST or HTTP-Redirect) and the
 * certificate their assertions are signed with. A tolerant scan rather than
 * an XML library: metadata uses any namespace prefix (md:, ds:, none), and
 * what goes wrong is reported in words a person can act on.
 */
import { X509Certificate } from 'node:crypto';

export type IdpMetadata = {
  entityId: string;
  ssoUrl: string;
  ssoBinding: 'HTTP-POST' | 'HTTP-REDIRECT';
  /** Base64 DER, no whitespace: what Okta's IdP key API takes as x5c. */
  certificate: string;
  certificateExpires: Date;
};

export type MetadataReading = { ok: true; metadata: IdpMetadata } | { ok: false; problems: string[] };

type XmlElement = { attributes: Record<string, string>; body: string };

const PREFIX = '(?:[A-Za-z_][\\w.-]*:)?';
const BINDINGS = {
  'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST': 'HTTP-POST',
  'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect': 'HTTP-REDIRECT',
} as const;

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Attribute names lose their prefix: only the local name matters here. */
function attributesOf(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of text.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const name = (match[1] ?? '').replace(/^.*:/, '');
    attributes[name] = decodeEntities(match[2] ?? match[3] ?? '');
  }
  return attributes;
}

/** Every `<prefix:local …>…</prefix:local>` or `<prefix:local …/>` in `xml`, in document order. */
function elements(xml: string, local: string): XmlElement[] {
  const pattern = new RegExp(`<(${PREFIX})${local}(\\s[^>]*?)?(?:/>|>([\\s\\S]*?)</\\1${local}\\s*>)`, 'g');
  return [...xml.matchAll(pattern)].map((match) => ({ attributes: attributesOf(match[2] ?? ''), body: match[3] ?? '' }));
}

function textOf(element: XmlElement): string {
  return decodeEntities(element.body.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')).trim();
}

function isHttpsUrl(value: string): boolean {
  return URL.canParse(value) && new URL(value).protocol === 'https:';
}

function singleSignOn(idp: XmlElement): { url: string; binding: IdpMetadata['ssoBinding'] } | string {
  const services = elements(idp.body, 'SingleSignOnService').flatMap((service) => {
    const binding = Object.entries(BINDINGS).find(([uri]) => uri === service.attributes['Binding'])?.[1];
    return binding === undefined ? [] : [{ url: service.attributes['Location'] ?? '', binding }];
  });
  // Okta supports both; POST carries larger requests, so it wins when offered.
  const chosen = services.find((s) => s.binding === 'HTTP-POST') ?? services[0];
  if (!chosen) return 'it has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding (where people are sent to sign in)';
  if (!isHttpsUrl(chosen.url)) return `its SingleSignOnService Location "${chosen.url}" is not an https:// address`;
  return chosen;
}

function signingCertificate(idp: XmlElement, now: Date): { certificate: string; expires: Date } | string {
  const signingKeys = elements(idp.body, 'KeyDescriptor').filter((key) => (key.attributes['use'] ?? 'signing') === 'signing');
  const encoded = signingKeys.flatMap((key) => elements(key.body, 'X509Certificate')).map((cert) => textOf(cert).replace(/\s+/g, ''));
  if (encoded.length === 0) return 'it has no signing certificate (an X509Certificate inside a KeyDescriptor of the IDPSSODescriptor)';
  const parsed = encoded.flatMap((certificate) => {
    try {
      return [{ certificate, expires: new Date(new X509Certificate(Buffer.from(certificate, 'base64')).validTo) }];
    } catch {
      return [];
    }
  });
  if (parsed.length === 0) return 'its signing certificate (X509Certificate) is not a valid X.509 certificate';
  const current = parsed.filter((cert) => cert.expires > now).sort((a, b) => b.expires.getTime() - a.expires.getTime())[0];
  if (!current) return `its signing certificate expired on ${parsed[0]?.expires.toISOString().slice(0, 10)}; ask the customer for current metadata`;
  return current;
}

/** The identity-provider entity of the document (aggregates may hold several entities). */
function identityProvider(xml: string): { entity: XmlElement; idp: XmlElement } | string {
  const entities = elements(xml, 'EntityDescriptor');
  if (entities.length === 0) return 'it has no EntityDescriptor: this does not look like SAML 2.0 metadata';
  for (const entity of entities) {
    const idp = elements(entity.body, 'IDPSSODescriptor')[0];
    if (idp) return { entity, idp };
  }
  return "it describes no identity provider (no IDPSSODescriptor); it may be service-provider metadata instead of the IdP's";
}

export function readIdpMetadata(xml: string, now: Date = new Date()): MetadataReading {
  const text = xml
    .replace(/^\uFEFF/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .trim();
  if (!text.startsWith('<')) return { ok: false, problems: ['it is not XML (SAML metadata starts with "<")'] };
  const found = identityProvider(text);
  if (typeof found === 'string') return { ok: false, problems: [found] };
  const problems: string[] = [];
  const entityId = found.entity.attributes['entityID'] ?? '';
  if (entityId.trim() === '') problems.push("its EntityDescriptor has no entityID (the IdP's issuer)");
  const sso = singleSignOn(found.idp);
  if (typeof sso === 'string') problems.push(sso);
  const signing = signingCertificate(found.idp, now);
  if (typeof signing === 'string') problems.push(signing);
  if (typeof sso === 'string' || typeof signing === 'string' || problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    metadata: {
      entityId: entityId.trim(),
      ssoUrl: sso.url,
      ssoBinding: sso.binding,
      certificate: signing.certificate,
      certificateExpires: signing.expires,
    },
  };
}
