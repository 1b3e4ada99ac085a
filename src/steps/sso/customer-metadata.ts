/**
 * Getting the customer's SAML IdP metadata from a person: the step parks
 * with a plain question, and whatever comes back (a metadata URL or pasted
 * XML, from a Slack modal or the CLI) is checked before anything is created
 * in Okta. Anything unusable parks the step again with a question that says
 * what is wrong, so the person can fix it.
 */
import { z } from 'zod';
import { NeedsInputError, errorMessage } from '../../domain/errors.ts';
import { readIdpMetadata, type IdpMetadata } from './saml-metadata.ts';

const OIDC_NOTE =
  'Only SAML 2.0 is supported here: an OIDC identity provider needs a client secret, which must not be shared through Slack, so set that up in Okta directly.';

const MAX_METADATA_BYTES = 1_000_000;
const FETCH_TIMEOUT_MS = 10_000;

export function askForMetadata(companyName: string, problems: readonly string[] = []): NeedsInputError {
  const ask = `Paste the URL of ${companyName}'s SAML metadata (https://…) or the metadata XML they sent.`;
  if (problems.length === 0) {
    return new NeedsInputError(`Single sign-on for ${companyName} uses the customer's own identity provider. ${ask} ${OIDC_NOTE}`);
  }
  return new NeedsInputError(`The SAML metadata for ${companyName} cannot be used: ${problems.join('; ')}. ${ask} ${OIDC_NOTE}`);
}

const providedInput = z.union([
  z.string().transform((text) => (/^\s*https?:\/\//i.test(text) ? { metadataUrl: text } : { details: text })),
  z.object({ metadataUrl: z.string().optional(), details: z.string().optional() }),
]);

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https only; plain http is accepted for this machine's own servers (local runs and tests). */
function metadataAddress(text: string): URL | string {
  if (!URL.canParse(text)) return `"${text}" is not a web address`;
  const url = new URL(text);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return url;
  return `the metadata URL must start with https:// (got ${url.protocol}//)`;
}

async function download(fetcher: typeof fetch, url: URL, signal: AbortSignal): Promise<{ xml: string } | { problem: string }> {
  let response: Response;
  try {
    response = await fetcher(url, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
      headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
    });
  } catch (err) {
    return { problem: `the metadata URL ${url.href} could not be fetched (${errorMessage(err)})` };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { problem: `the metadata URL ${url.href} answered HTTP ${response.status}` };
  }
  const xml = await response.text();
  if (xml.length > MAX_METADATA_BYTES) return { problem: `the metadata at ${url.href} is larger than 1 MB; send this IdP's own metadata only` };
  return { xml };
}

/** The customer's IdP metadata, or a NeedsInputError asking for it (again). */
export async function customerMetadata(
  provided: unknown,
  companyName: string,
  services: { fetch: typeof fetch; signal: AbortSignal },
): Promise<IdpMetadata> {
  if (provided === undefined || provided === null) throw askForMetadata(companyName);
  const parsed = providedInput.safeParse(provided);
  const metadataUrl = parsed.success ? parsed.data.metadataUrl?.trim() : undefined;
  const details = parsed.success ? parsed.data.details?.trim() : undefined;
  let xml: string;
  if (metadataUrl) {
    const url = metadataAddress(metadataUrl);
    if (typeof url === 'string') throw askForMetadata(companyName, [url]);
    const fetched = await download(services.fetch, url, services.signal);
    if ('problem' in fetched) throw askForMetadata(companyName, [fetched.problem]);
    xml = fetched.xml;
  } else if (details) {
    xml = details;
  } else {
    throw askForMetadata(companyName, ['neither a metadata URL nor metadata XML was given']);
  }
  const reading = readIdpMetadata(xml);
  if (!reading.ok) throw askForMetadata(companyName, reading.problems);
  return reading.metadata;
}
