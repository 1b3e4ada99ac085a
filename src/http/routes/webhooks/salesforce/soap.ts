/**
 * What Salesforce reads back: the acknowledgement (`notificationsResponse`
 * with Ack true), sent only once every notification is durably handled, or a
 * SOAP 1.1 fault whose faultstring Salesforce shows its admin in the
 * outbound message delivery status. Anything but an ack is redelivered.
 */
import { NS } from './envelope.ts';

export const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8';

/** Client: the message is at fault (Salesforce's side must change); Server: ours is (retrying may help). */
export type FaultCode = 'Client' | 'Server';

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="${NS.soap}"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>\n`;
}

export function acknowledgement(): string {
  return envelope(`<notificationsResponse xmlns="${NS.outbound}"><Ack>true</Ack></notificationsResponse>`);
}

/** Salesforce shows the reason in a narrow column: the first problems, then how many more. */
const MAX_REASON = 2000;

export function fault(code: FaultCode, reason: string): string {
  const text = reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
  return envelope(`<soapenv:Fault><faultcode>soapenv:${code}</faultcode><faultstring>${escapeXml(text)}</faultstring></soapenv:Fault>`);
}

export function escapeXml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than sent as an unreadable document.
  const allowed = text.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
  return allowed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
