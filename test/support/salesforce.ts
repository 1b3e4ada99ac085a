/**
 * Salesforce Outbound Messages for tests, from the hand-written samples in
 * test/fixtures/salesforce (shaped as Salesforce documents them: SOAP 1.1,
 * namespace http://soap.sforce.com/2005/09/outbound, sObjects typed
 * sf:Opportunity). The close date is today's, so the intake's date rules hold.
 */
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
