/**
 * A Salesforce Outbound Message as Salesforce sends it (SOAP 1.1, namespace
 * http://soap.sforce.com/2005/09/outbound): an Envelope whose Body holds one
 * `notifications` with OrganizationId, ActionId, SessionId (nillable),
 * EnterpriseUrl, PartnerUrl and 1–100 Notification, each an Id and an
 * sObject typed sf:Opportunity carrying the fields the admin chose. Read from
 * the namespaced tree into plain values, then checked with zod; every problem
 * is named by where it is, for the fault Salesforce shows its admin.
 *
 * The SessionId is a live Salesforce session: it is read past and never kept.
 */
import { z } from 'zod';
import { attribute, resolveQName, type XmlElement } from './xml.ts';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  outbound: 'http://soap.sforce.com/2005/09/outbound',
  sobject: 'urn:sobject.enterprise.soap.sforce.com',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

/** Salesforce sends at most 100 notifications in one message. */
export const MAX_NOTIFICATIONS = 100;

export type OpportunityFields = ReadonlyMap<string, string | null>;

export type OutboundMessage = {
  organizationId: string;
  actionId: string;
  enterpriseUrl: string;
  partnerUrl: string;
  notifications: { id: string; opportunityId: string; fields: OpportunityFields }[];
};

export type EnvelopeReading = { ok: true; message: OutboundMessage } | { ok: false; problems: string[] };

const ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

const salesforceId = (what: string, keyPrefix: string) =>
  z
    .string({ error: `missing: Salesforce always sends the ${what}` })
    .trim()
    .regex(ID, { error: (issue) => `"${String(issue.input)}" is not a Salesforce id (15 or 18 letters and digits)`, abort: true })
    .refine((id) => id.startsWith(keyPrefix), { error: (issue) => `"${String(issue.input)}" is not ${what} (those start with ${keyPrefix})` });

const url = (what: string) => z.url({ error: `missing or not a URL: Salesforce always sends the ${what}`, protocol: /^https?$/ });

const NotificationSchema = z.object({
  Id: salesforceId('notification id', '04l'),
  sObject: z.object({ Id: salesforceId('Opportunity id', '006'), fields: z.map(z.string(), z.string().nullable()) }),
});

const NotificationsSchema = z.object({
  OrganizationId: salesforceId('organization id', '00D'),
  ActionId: salesforceId('outbound message (action) id', '04k'),
  EnterpriseUrl: url('enterprise API URL'),
  PartnerUrl: url('partner API URL'),
  Notification: z
    .array(NotificationSchema)
    .min(1, { error: 'no Notification: Salesforce sends at least one' })
    .max(MAX_NOTIFICATIONS, {
      error: (issue) =>
        `${Array.isArray(issue.input) ? issue.input.length : 'too many'} notifications; Salesforce sends at most ${MAX_NOTIFICATIONS}`,
    }),
});

export function readEnvelope(root: XmlElement): EnvelopeReading {
  const problems: string[] = [];
  const notifications = notificationsOf(root, problems);
  if (!notifications) return { ok: false, problems };
  const draft = draftOf(notifications, problems);
  const parsed = NotificationsSchema.safeParse(draft);
  if (!parsed.success) problems.push(...parsed.error.issues.map((issue) => `${where(issue.path)}: ${issue.message}`));
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const m = parsed.data;
  return {
    ok: true,
    message: {
      organizationId: m.OrganizationId,
      actionId: m.ActionId,
      enterpriseUrl: m.EnterpriseUrl,
      partnerUrl: m.PartnerUrl,
      notifications: m.Notification.map((n) => ({ id: n.Id, opportunityId: n.sObject.Id, fields: n.sObject.fields })),
    },
  };
}

/** "notifications/Notification[2]/Id" from zod's path (lists counted from 1, as people count). */
function where(path: readonly PropertyKey[]): string {
  const parts = ['notifications'];
  for (const part of path) {
    if (typeof part === 'number') parts[parts.length - 1] = `${parts.at(-1)}[${part + 1}]`;
    else if (part !== 'fields') parts.push(String(part));
  }
  return parts.join('/');
}

function named(element: XmlElement, namespace: string, local: string): XmlElement[] {
  return element.children.filter((child) => child.name.namespace === namespace && child.name.local === local);
}

function describe(element: XmlElement): string {
  return `<${element.written}>${element.name.namespace ? ` in namespace ${element.name.namespace}` : ' in no namespace'}`;
}

/** Envelope → Body → notifications, each exactly once and in its namespace. */
function notificationsOf(root: XmlElement, problems: string[]): XmlElement | undefined {
  if (root.name.namespace !== NS.soap || root.name.local !== 'Envelope') {
    problems.push(`the root element is ${describe(root)}; a SOAP 1.1 message is an Envelope in namespace ${NS.soap}`);
    return undefined;
  }
  const body = one(root, NS.soap, 'Body', 'Envelope', problems);
  return body && one(body, NS.outbound, 'notifications', 'Envelope/Body', problems);
}

function one(parent: XmlElement, namespace: string, local: string, path: string, problems: string[]): XmlElement | undefined {
  const found = named(parent, namespace, local);
  const [only] = found;
  if (only && found.length === 1) return only;
  if (found.length > 1) problems.push(`${path}: ${found.length} ${local} elements; there must be one`);
  else {
    const seen = parent.children.map(describe).join(', ') || 'nothing';
    problems.push(`${path}: no ${local} element in namespace ${namespace} (found ${seen})`);
  }
  return undefined;
}

/** The plain values zod checks: a missing element stays undefined (named by zod); structural problems are named here. */
function draftOf(notifications: XmlElement, problems: string[]): Record<string, unknown> {
  const single = (local: string): string | undefined => {
    const found = named(notifications, NS.outbound, local);
    if (found.length > 1) problems.push(`notifications/${local}: sent ${found.length} times; Salesforce sends it once`);
    return found[0]?.text;
  };
  const sessions = named(notifications, NS.outbound, 'SessionId');
  if (sessions.length !== 1) problems.push(`notifications/SessionId: sent ${sessions.length} times; Salesforce sends it once (empty when nil)`);
  return {
    OrganizationId: single('OrganizationId'),
    ActionId: single('ActionId'),
    EnterpriseUrl: single('EnterpriseUrl'),
    PartnerUrl: single('PartnerUrl'),
    Notification: named(notifications, NS.outbound, 'Notification').map((n, index) =>
      notificationDraft(n, `notifications/Notification[${index + 1}]`, problems),
    ),
  };
}

function notificationDraft(notification: XmlElement, path: string, problems: string[]): Record<string, unknown> {
  const ids = named(notification, NS.outbound, 'Id');
  if (ids.length > 1) problems.push(`${path}/Id: sent ${ids.length} times; a notification has one id`);
  const sObject = one(notification, NS.outbound, 'sObject', path, problems);
  return { Id: ids[0]?.text, sObject: sObject ? opportunityDraft(sObject, `${path}/sObject`, problems) : undefined };
}

function opportunityDraft(sObject: XmlElement, path: string, problems: string[]): Record<string, unknown> {
  const type = attribute(sObject, NS.xsi, 'type');
  const resolved = type === undefined ? undefined : resolveQName(sObject, type);
  if (resolved?.namespace !== NS.sobject || resolved.local !== 'Opportunity') {
    const said = type === undefined ? 'has no xsi:type' : `is typed "${type}"`;
    problems.push(`${path}: ${said}; only Opportunity records (xsi:type sf:Opportunity, sf = ${NS.sobject}) are accepted here`);
  }
  const fields = new Map<string, string | null>();
  for (const field of sObject.children) {
    const name = field.name.local;
    if (field.name.namespace !== NS.sobject) problems.push(`${path}: ${describe(field)} is not an Opportunity field (namespace ${NS.sobject})`);
    else if (field.children.length > 0) problems.push(`${path}/${name}: holds elements; an outbound message sends each field as a value`);
    else if (fields.has(name)) problems.push(`${path}/${name}: sent twice`);
    else fields.set(name, attribute(field, NS.xsi, 'nil') === 'true' ? null : field.text);
  }
  const id = fields.get('Id');
  return { Id: id ?? undefined, fields };
}
