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
import { sendProblem } from './problems.ts';

/** An event is a few short fields; anything much bigger is not one. */
export const ACTIVATION_BODY_LIMIT = 4 * 1024;

export const activationEventRoutes: FastifyPluginAsync<{ kpis: KpiService; callerOf: CallerOf }> = async (api, deps) => {
  api.post<{ Params: { slug: string } }>('/tenants/:slug/activation-events', { bodyLimit: ACTIVATION_BODY_LIMIT }, async (request, reply) => {
    const who = deps.callerOf(request);
    try {
      const outcome = await deps.kpis.recordActivation(request.params.slug, request.body, who);
      return reply.code(outcome === 'recorded' ? 202 : 200).send({ outcome });
    } catch (err) {
      if (err instanceof InvalidInputError) {
        const errors = err.problems.map((p) => ({ field: p.field, detail: p.message }));
        const detail = `Not a valid activation event: ${errors.map((e) => e.field).join(', ')}.`;
        return sendProblem(reply, { status: 422, title: 'Unprocessable Content', detail, errors });
      }
      if (err instanceof UnknownTenantError) return sendProblem(reply, { status: 404, title: 'Not Found', detail: sentence(err.message) });
      if (err instanceof NotAllowedError) return sendProblem(reply, { status: 403, title: 'Forbidden', detail: err.message });
      throw err;
    }
  });
};
