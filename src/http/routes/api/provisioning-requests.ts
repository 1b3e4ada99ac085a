/**
 * POST /api/v1/provisioning-requests — a CRM asks for a tenant for a closed
 * deal. 202 with the new job, 200 with the job the opportunity already has
 * (same deal), 409 when the opportunity is another deal's, 422 naming every
 * bad field. With an Idempotency-Key, the same key and body replay the first
 * answer; the same key with another body is refused.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotentRequests, Work } from '../../../app/idempotent-requests.ts';
import type { ProvisioningService } from '../../../app/services.ts';
import { InvalidInputError, NotAllowedError, OpportunityTakenError } from '../../../domain/errors.ts';
import type { Identity } from '../../../domain/policy.ts';
import { sentence } from '../../../domain/wording.ts';
import type { KeptAnswer } from '../../../ports/idempotency.ts';
import { linksOf, provisioningAnswer } from './answers.ts';
import { invalidInput, PROBLEM_TYPE, problemBody, sendProblem, type Problem } from './problems.ts';
import type { CallerOf } from './v1.ts';

/** A deal is a dozen short fields; anything much bigger is not one. */
export const PROVISIONING_BODY_LIMIT = 64 * 1024;

/** Visible ASCII, as the IETF draft and Stripe take keys (a UUID fits many times over). */
const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

export type ProvisioningRouteDeps = {
  service: ProvisioningService;
  idempotency: IdempotentRequests;
  callerOf: CallerOf;
  /** Where this server is reached, for the links in answers. */
  origin(request: FastifyRequest): string;
};

export const provisioningRequestRoutes: FastifyPluginAsync<ProvisioningRouteDeps> = async (api, deps) => {
  api.post('/provisioning-requests', { bodyLimit: PROVISIONING_BODY_LIMIT }, async (request, reply) => {
    const who = deps.callerOf(request);
    const work: Work = () => answerTo(request.body, who, deps, deps.origin(request));
    const key = request.headers['idempotency-key'];
    if (key === undefined) return sendAnswer(reply, (await work()).answer, false);
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      return sendProblem(reply, {
        status: 400,
        title: 'Bad Request',
        detail: 'Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID.',
      });
    }
    const outcome = await deps.idempotency.once(who.id, key, requestHash(request.body), work);
    if (outcome.kind === 'answered') return sendAnswer(reply, outcome.answer, outcome.replayed);
    if (outcome.kind === 'key_reused') {
      const detail = 'This Idempotency-Key was used for another request body; use a new key for a new request.';
      return sendProblem(reply, { status: 422, title: 'Unprocessable Content', detail });
    }
    reply.header('retry-after', '1');
    return sendProblem(reply, {
      status: 409,
      title: 'Conflict',
      detail: 'A request with this Idempotency-Key is still being answered; retry in a moment.',
    });
  });
};

/** The service's answer as sent: kept for the key when it is a job (a refusal is not: the caller will fix it and retry). */
async function answerTo(body: unknown, who: Identity, deps: ProvisioningRouteDeps, origin: string): Promise<{ answer: KeptAnswer; keep: boolean }> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    const problem = invalidInput('Not a provisioning request', [
      { field: '(body)', message: 'Send a JSON object with the deal’s fields (see /api/v1/openapi.json)' },
    ]);
    return { answer: { status: problem.status, body: JSON.stringify(problemBody(problem)) }, keep: false };
  }
  try {
    const { job, created } = await deps.service.requestFromCrm(body, who);
    // A new job has no customer status page yet; an existing one may.
    const page = created ? undefined : await deps.service.sharedStatusPage(job.jobId, who);
    const answer = provisioningAnswer(job, created ? 'created' : 'existing', linksOf(job.jobId, origin, page));
    return { answer: { status: created ? 202 : 200, body: JSON.stringify(answer) }, keep: true };
  } catch (err) {
    const problem = problemOf(err);
    if (!problem) throw err;
    return { answer: { status: problem.status, body: JSON.stringify(problemBody(problem)) }, keep: false };
  }
}

/** The named errors a provisioning request can meet, as problems; undefined for anything else (our fault: 500). */
function problemOf(err: unknown): Problem | undefined {
  if (err instanceof OpportunityTakenError) {
    const [taken] = err.problems;
    const detail = sentence(taken?.message ?? 'This CRM opportunity belongs to another deal');
    return { status: 409, title: 'Conflict', detail, differences: [...err.differences], jobId: err.holderJobId };
  }
  if (err instanceof InvalidInputError) return invalidInput('Not a valid provisioning request', err.problems);
  if (err instanceof NotAllowedError) return { status: 403, title: 'Forbidden', detail: err.message };
  return undefined;
}

function sendAnswer(reply: FastifyReply, answer: KeptAnswer, replayed: boolean): FastifyReply {
  if (replayed) reply.header('idempotent-replayed', 'true');
  return reply
    .code(answer.status)
    .type(answer.status >= 400 ? PROBLEM_TYPE : 'application/json')
    .header('cache-control', 'no-store')
    .send(answer.body);
}

/** The request as the key's record remembers it: its body, keys sorted, so the same JSON written in another order is the same request. */
export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(`POST /provisioning-requests\n${canonicalJson(body)}`)
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
