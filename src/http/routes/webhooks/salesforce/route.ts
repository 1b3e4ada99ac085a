/**
 * POST /api/v1/salesforce/outbound-messages/<secret> (or without the secret,
 * with an API caller's bearer token): Salesforce's Outbound Messages. Checked
 * in the order that reveals least: the secret or token before the body is
 * read, then the content type and size, the XML, the envelope, and only then
 * the organization. Every refusal is a SOAP 1.1 fault naming the problem (a
 * fault never acknowledges, so Salesforce shows it and delivers again); the
 * acknowledgement is sent only once every notification is durably a job or a
 * pending intake.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { readBodiesRaw } from '../../../raw-body.ts';
import type { DealOutcome } from '../../../../app/crm-intake.ts';
import type { CrmDeal } from '../../../../domain/crm-deal.ts';
import type { ApiCallers } from '../../../../domain/api-callers.ts';
import { orgAllowed, secretMatches, shortId, type SalesforceEndpoint } from '../../../../domain/salesforce-endpoint.ts';
import type { SalesforceMap } from '../../../../manifests/salesforce.ts';
import { apiCaller } from '../../../auth/api-caller.ts';
import { readEnvelope } from './envelope.ts';
import { opportunityDeal } from './opportunity.ts';
import { acknowledgement, fault, SOAP_CONTENT_TYPE, type FaultCode } from './soap.ts';
import { readXml } from './xml.ts';

export const OUTBOUND_MESSAGES_PATH = '/api/v1/salesforce/outbound-messages';
/** A full message of 100 notifications with long text fields stays well below this; a bigger body is not one. */
export const ENVELOPE_LIMIT = 5 * 1024 * 1024;
/** Salesforce shows this name in its delivery status, and the audit says who asked. */
export const SALESFORCE = 'Salesforce';

export type SalesforceRouteDeps = {
  /** Null: no organization is configured, so every message is refused. */
  endpoint: SalesforceEndpoint | null;
  callers: ApiCallers;
  /** manifests/salesforce.yaml; undefined when the deployment has none. */
  fieldMap: SalesforceMap | undefined;
  receive(source: string, deals: readonly CrmDeal[]): Promise<DealOutcome[]>;
  onError(err: unknown): void;
  onRefused(reason: string): void;
};

/** A fault as Salesforce reads it: HTTP 500 for the message's or our trouble (SOAP 1.1 §6.2), 401/403/413/415 for the HTTP layer's. */
function sendFault(reply: FastifyReply, status: number, code: FaultCode, reason: string): FastifyReply {
  return reply.code(status).type(SOAP_CONTENT_TYPE).header('cache-control', 'no-store').send(fault(code, reason));
}

/** True when the request proves it may post: the path's secret, or a configured API caller's bearer token. */
function authenticated(request: FastifyRequest<{ Params: { secret?: string } }>, deps: SalesforceRouteDeps): boolean {
  const secret = request.params.secret;
  if (secret !== undefined) return deps.endpoint !== null && secretMatches(secret, deps.endpoint);
  return apiCaller(request.headers.authorization, deps.callers) !== undefined;
}

/** text/xml as Salesforce sends it (`text/xml; charset=utf-8`); undefined when acceptable, else why not. */
function contentTypeProblem(header: string | undefined): string | undefined {
  const [media = '', ...params] = (header ?? '').split(';').map((p) => p.trim().toLowerCase());
  if (media !== 'text/xml') return `the Content-Type is "${media || 'missing'}"; an outbound message is sent as text/xml; charset=utf-8`;
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8') return `the charset is "${charset}"; outbound messages are read as utf-8`;
  return undefined;
}

export const salesforceRoutes: FastifyPluginAsync<SalesforceRouteDeps> = async (server, deps) => {
  // Any content type is read as bytes (up to the limit) so a wrong one is answered with a fault, not Fastify's JSON.
  readBodiesRaw(server, ENVELOPE_LIMIT);
  server.setErrorHandler(async (err, _request, reply) => {
    const status = err instanceof Error && 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status === 413) return sendFault(reply, 413, 'Client', `the message is larger than ${ENVELOPE_LIMIT / 1024 / 1024} MB; Salesforce's are not`);
    if (status >= 400 && status < 500) return sendFault(reply, 400, 'Client', 'the request could not be read as an outbound message');
    deps.onError(err);
    return sendFault(reply, 500, 'Server', 'the provisioner failed to read the message; Salesforce will deliver it again');
  });
  // Before the body is read: a stranger learns nothing more, and sends no 5 MB for nothing.
  server.addHook<{ Params: { secret?: string } }>('onRequest', async (request, reply) => {
    if (authenticated(request, deps)) return;
    deps.onRefused('an outbound message without the endpoint secret or an API token');
    await sendFault(reply, 401, 'Client', 'not authenticated: use the endpoint URL with its secret, or an API token');
  });
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const typeProblem = contentTypeProblem(request.headers['content-type']);
    if (typeProblem) return sendFault(reply, 415, 'Client', typeProblem);
    const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    const xml = readXml(body);
    if (!xml.ok) return sendFault(reply, 500, 'Client', `malformed outbound message: ${xml.problem}`);
    const reading = readEnvelope(xml.root);
    if (!reading.ok) return sendFault(reply, 500, 'Client', `not an outbound message as Salesforce sends it: ${reading.problems.join('; ')}`);
    const message = reading.message;
    if (!deps.endpoint || !orgAllowed(message.organizationId, deps.endpoint)) {
      deps.onRefused(`an outbound message from organization ${shortId(message.organizationId)}, which is not configured`);
      return sendFault(reply, 403, 'Client', `organization ${message.organizationId} may not send outbound messages here (SALESFORCE_ORG_IDS)`);
    }
    if (!deps.fieldMap) {
      return sendFault(
        reply,
        500,
        'Server',
        'the provisioner has no Salesforce field map (manifests/salesforce.yaml); the message will be delivered again',
      );
    }
    const map = deps.fieldMap;
    const deals = message.notifications.map((notification) => opportunityDeal(notification, map));
    try {
      await deps.receive(SALESFORCE, deals);
    } catch (err) {
      deps.onError(err);
      return sendFault(reply, 500, 'Server', 'the provisioner could not record every notification; Salesforce will deliver the message again');
    }
    return reply.code(200).type(SOAP_CONTENT_TYPE).send(acknowledgement());
  };
  server.post(OUTBOUND_MESSAGES_PATH, handler);
  server.post(`${OUTBOUND_MESSAGES_PATH}/:secret`, handler);
};
