/**
 * Salesforce Outbound Messages for tests, from the hand-written samples in
 * test/fixtures/salesforce (shaped as Salesforce documents them: SOAP 1.1,
 * namespace http://soap.sforce.com/2005/09/outbound, sObjects typed
 * sf:Opportunity). The close date is today's, so the intake's date rules hold.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ORG_ID = '00D5e000000KQ2eEAG';
export const ENDPOINT_SECRET = 'sf-endpoint-secret-for-tests-0123456789abcdef';

const FIXTURES = join(import.meta.dirname, '../fixtures/salesforce');

export type Sample = 'one-opportunity' | 'two-opportunities';

/** The sample's first notification in one-opportunity.xml: Globex, Growth, 150,000. */
export const GLOBEX = { notificationId: '04l5e00000Gx7QzAAJ', opportunityId: '0065e00000B1gLxAAJ' };
export const INITECH = { notificationId: '04l5e00000Gx8AbAAJ', opportunityId: '0065e00000B1hMnAAJ' };
export const UMBRELLA = { notificationId: '04l5e00000Gx8AcAAJ', opportunityId: '0065e00000B1hMoAAJ' };

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A sample message; `edits` replace text in it (e.g. another plan), each of which must be found. */
export function sample(name: Sample, edits: Readonly<Record<string, string>> = {}): string {
  let xml = readFileSync(join(FIXTURES, `${name}.xml`), 'utf8').replaceAll('{{CLOSE_DATE}}', today());
  for (const [from, to] of Object.entries(edits)) {
    if (!xml.includes(from)) throw new Error(`"${from}" is not in the ${name} sample`);
    xml = xml.replaceAll(from, to);
  }
  return xml;
}

/** The one-opportunity sample with `count` notifications, each its own opportunity (ids numbered from 1). */
export function withNotifications(count: number, padTo = 0): string {
  const xml = sample('one-opportunity');
  const start = xml.indexOf('<Notification>');
  const end = xml.indexOf('</Notification>') + '</Notification>'.length;
  const one = xml.slice(start, end);
  const padding = padTo > 0 ? `<sf:Description>${'x'.repeat(padTo)}</sf:Description>` : '';
  const many = Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(3, '0');
    return one
      .replace(GLOBEX.notificationId, `04l5e00000Gx${n}AAJ`)
      .replace(GLOBEX.opportunityId, `0065e00000B1${n}AAJ`)
      .replace('Globex &amp; Sons Inc', `Globex ${n} Inc`)
      .replace('</sObject>', `${padding}</sObject>`);
  }).join('\n   ');
  return xml.slice(0, start) + many + xml.slice(end);
}

/** A token of an API caller, which may post instead of using the secret path. */
export const CRM_TOKEN = 'prov_salesforce-caller-token-for-tests-0123456789';

/** The app's configuration for taking outbound messages from ORG_ID (configured in its 15-character form). */
export function salesforceEnv(): Record<string, string> {
  return {
    SALESFORCE_ORG_IDS: ORG_ID.slice(0, 15),
    SALESFORCE_ENDPOINT_SECRET_HASHES: `sha256:${createHash('sha256').update(ENDPOINT_SECRET).digest('hex')}`,
    API_CALLERS: `salesforce=sha256:${createHash('sha256').update(CRM_TOKEN).digest('hex')}`,
  };
}

export const OUTBOUND_PATH = '/api/v1/salesforce/outbound-messages';

/** The acknowledgement, exactly as the endpoint sends it. */
export const ACK =
  '<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>\n';

export type SoapAnswer = { status: number; type: string | null; body: string; fault: { code: string; reason: string } | undefined };

/** POSTs an envelope as Salesforce does (text/xml; charset=utf-8, a SOAPAction header), to the secret URL unless told otherwise. */
export async function postEnvelope(
  base: string,
  xml: string | Uint8Array,
  opts: { secret?: string | null; token?: string; contentType?: string | null } = {},
): Promise<SoapAnswer> {
  const secret = opts.secret === undefined ? ENDPOINT_SECRET : opts.secret;
  const url = `${base}${OUTBOUND_PATH}${secret === null ? '' : `/${encodeURIComponent(secret)}`}`;
  const headers: Record<string, string> = { soapaction: '""' };
  const contentType = opts.contentType === undefined ? 'text/xml; charset=utf-8' : opts.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  const response = await fetch(url, { method: 'POST', headers, body: xml });
  const body = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), body, fault: faultOf(body) };
}

/** The faultcode and faultstring of a SOAP fault (entities decoded), if the body is one. */
export function faultOf(body: string): { code: string; reason: string } | undefined {
  const code = /<faultcode>([^<]*)<\/faultcode>/.exec(body)?.[1];
  const reason = /<faultstring>([^<]*)<\/faultstring>/.exec(body)?.[1];
  if (code === undefined || reason === undefined) return undefined;
  const decoded = reason
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
  return { code, reason: decoded };
}
