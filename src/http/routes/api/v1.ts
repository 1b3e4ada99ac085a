/**
 * The API for programs (/api/v1): every request but the OpenAPI document
 * carries a caller's bearer token, checked before anything else (before the
 * body is even read), then counted against the caller's budget; bodies are
 * JSON only; every error is a problem document. Routes get the caller as an
 * Identity and call the services like any other door.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotentRequests } from '../../../app/idempotent-requests.ts';
import type { KpiService } from '../../../app/kpis.ts';
import type { ProvisioningService } from '../../../app/services.ts';
import type { ApiCallers } from '../../../domain/api-callers.ts';
import type { Identity } from '../../../domain/policy.ts';
import type { Admission, CallerRateLimit } from '../../../ports/rate-limit.ts';
import { apiCaller } from '../../auth/api-caller.ts';
import { ACTIVATION_BODY_LIMIT, activationEventRoutes } from './activation-events.ts';
import { jobRoutes } from './jobs.ts';
import { openApiDocument } from './openapi.ts';
import { problemOfFramework, sendProblem } from './problems.ts';
import { PROVISIONING_BODY_LIMIT, provisioningRequestRoutes } from './provisioning-requests.ts';

export type ApiDeps = {
  callers: ApiCallers;
  service: ProvisioningService;
  kpis: KpiService;
  idempotency: IdempotentRequests;
  rateLimit: CallerRateLimit;
  /** Where this server is reached (PUBLIC_URL, or the address the request came to), for links in answers. */
  origin(request: FastifyRequest): string;
  onError(err: unknown): void;
};

/** The authenticated caller of a request that reached a route. */
export type CallerOf = (request: FastifyRequest) => Identity;

/** Routes anyone may read, without a token (the document that says how to get one). */
const PUBLIC = new Set(['/api/v1/openapi.json']);

export const apiV1Routes: FastifyPluginAsync<ApiDeps> = async (api, deps) => {
  const callers = new WeakMap<FastifyRequest, Identity>();
  api.addHook('onRequest', async (request, reply) => {
    if (PUBLIC.has(request.routeOptions.url ?? '')) return;
    const who = apiCaller(request.headers.authorization, deps.callers);
    if (!who) {
      reply.header('www-authenticate', 'Bearer realm="provisioner"');
      return sendProblem(reply, { status: 401, title: 'Unauthorized', detail: 'Send a valid API token: Authorization: Bearer <token>.' });
    }
    const admission = await deps.rateLimit.admit(who.id);
    rateLimitHeaders(reply, admission);
    if (!admission.admitted) {
      reply.header('retry-after', String(admission.resetSeconds));
      const detail = `This caller may make ${admission.limit} requests a minute; try again in ${admission.resetSeconds} s.`;
      return sendProblem(reply, { status: 429, title: 'Too Many Requests', detail });
    }
    callers.set(request, who);
  });
  // JSON only: Fastify's other default parsers (text/plain) are not for this API.
  api.removeAllContentTypeParsers();
  api.addContentTypeParser('application/json', { parseAs: 'string' }, api.getDefaultJsonParser('error', 'error'));
  api.setErrorHandler(async (err, _request, reply) => {
    const status = err instanceof Error && 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : undefined;
    const known = problemOfFramework(status);
    if (known) return sendProblem(reply, known);
    deps.onError(err);
    return sendProblem(reply, { status: 500, title: 'Internal Server Error', detail: 'Something went wrong on our side; try again later.' });
  });
  api.setNotFoundHandler(async (request, reply) =>
    sendProblem(reply, { status: 404, title: 'Not Found', detail: `No ${request.method} ${request.url.split('?')[0]} in this API.` }),
  );
  const callerOf: CallerOf = (request) => {
    const who = callers.get(request);
    if (!who) throw new Error('an API route ran without an authenticated caller');
    return who;
  };
  const document = JSON.stringify(
    openApiDocument({
      provisioningRequest: deps.service.crmRequestSchema(),
      activationEvent: deps.kpis.activationEventSchema(),
      bodyLimits: { provisioningRequest: PROVISIONING_BODY_LIMIT, activationEvent: ACTIVATION_BODY_LIMIT },
    }),
  );
  api.get('/openapi.json', async (_request, reply) => reply.type('application/json').header('cache-control', 'public, max-age=300').send(document));
  await api.register(provisioningRequestRoutes, { service: deps.service, idempotency: deps.idempotency, callerOf, origin: deps.origin });
  await api.register(jobRoutes, { service: deps.service, callerOf, origin: deps.origin });
  await api.register(activationEventRoutes, { kpis: deps.kpis, callerOf });
};

/** The caller's budget, as the IETF's RateLimit header fields have it (draft-ietf-httpapi-ratelimit-headers). */
function rateLimitHeaders(reply: FastifyReply, admission: Admission): void {
  reply.header('ratelimit-policy', `"per-caller";q=${admission.limit};w=${admission.windowSeconds}`);
  reply.header('ratelimit', `"per-caller";r=${admission.remaining};t=${admission.resetSeconds}`);
}
