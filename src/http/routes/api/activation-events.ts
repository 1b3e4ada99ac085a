/**
 * POST /api/v1/tenants/:slug/activation-events — the product says a tenant's
 * people used a workflow: `{ id, workflow, at? }`. 202 when kept, 200 when
 * the same event id came before (a redelivery changes nothing), 404 for a
 * tenant nobody asked for, 422 naming each bad field.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { KpiService } from '../../../app/kpis.ts';
import { InvalidInputError, NotAllowedError, UnknownTenantError } from '../../../domain/errors.ts';
import { sentence } from '../../../domain/wording.ts';
import type { CallerOf } from './v1.ts';
import { activationAnswer, sendJson } from './answers.ts';
import { invalidInput, sendProblem } from './problems.ts';

/** An event is a few short fields; anything much bigger is not one. */
export const ACTIVATION_BODY_LIMIT = 4 * 1024;

export const activationEventRoutes: FastifyPluginAsync<{ kpis: KpiService; callerOf: CallerOf }> = async (api, deps) => {
  api.post<{ Params: { slug: string } }>('/tenants/:slug/activation-events', { bodyLimit: ACTIVATION_BODY_LIMIT }, async (request, reply) => {
    const who = deps.callerOf(request);
    try {
      const outcome = await deps.kpis.recordActivation(request.params.slug, request.body, who);
      return sendJson(reply, outcome === 'recorded' ? 202 : 200, activationAnswer(outcome));
    } catch (err) {
      if (err instanceof InvalidInputError) return sendProblem(reply, invalidInput('Not a valid activation event', err.problems));
      if (err instanceof UnknownTenantError) return sendProblem(reply, { status: 404, title: 'Not Found', detail: sentence(err.message) });
      if (err instanceof NotAllowedError) return sendProblem(reply, { status: 403, title: 'Forbidden', detail: err.message });
      throw err;
    }
  });
};
