/**
 * The API for programs (/api/v1): every request carries a caller's bearer
 * token, checked before anything else (before the body is even read); bodies
 * are JSON only; every error is a problem document. Routes get the caller as
 * an Identity and call the services like any other door.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { KpiService } from '../../../app/kpis.ts';
import type { ApiCallers } from '../../../domain/api-callers.ts';
import type { Identity } from '../../../domain/policy.ts';
import { apiCaller } from '../../auth/api-caller.ts';
import { activationEventRoutes } from './activation-events.ts';
import { problemOfFramework, sendProblem } from './problems.ts';

export type ApiDeps = { callers: ApiCallers; kpis: KpiService; onError(err: unknown): void };

/** The authenticated caller of a request that reached a route. */
export type CallerOf = (request: FastifyRequest) => Identity;

export const apiV1Routes: FastifyPluginAsync<ApiDeps> = async (api, deps) => {
  const callers = new WeakMap<FastifyRequest, Identity>();
  api.addHook('onRequest', async (request, reply) => {
    const who = apiCaller(request.headers.authorization, deps.callers);
    if (who) {
      callers.set(request, who);
      return;
    }
    reply.header('www-authenticate', 'Bearer realm="provisioner"');
    await sendProblem(reply, { status: 401, title: 'Unauthorized', detail: 'Send a valid API token: Authorization: Bearer <token>.' });
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
  await api.register(activationEventRoutes, { kpis: deps.kpis, callerOf });
};
