/**
 * Errors of the API as RFC 9457 problem details (application/problem+json):
 * a title and status every client understands, a detail for the person
 * reading the logs, and for invalid input every field named.
 */
import type { FastifyReply } from 'fastify';

export type Problem = { status: number; title: string; detail: string; errors?: { field: string; detail: string }[] };

export const PROBLEM_TYPE = 'application/problem+json';

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type(PROBLEM_TYPE)
    .header('cache-control', 'no-store')
    .send({ type: 'about:blank', ...problem });
}

/** What Fastify itself refuses before a route runs (body too large, not JSON, malformed JSON), in the same form. */
export function problemOfFramework(statusCode: number | undefined): Problem | undefined {
  if (statusCode === 413) return { status: 413, title: 'Content Too Large', detail: 'The request body is larger than this endpoint accepts.' };
  if (statusCode === 415) return { status: 415, title: 'Unsupported Media Type', detail: 'Send the body as application/json.' };
  if (statusCode === 400) return { status: 400, title: 'Bad Request', detail: 'The body is not valid JSON.' };
  return undefined;
}
