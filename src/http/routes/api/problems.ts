/**
 * Errors of the API as RFC 9457 problem details (application/problem+json):
 * a title and status every client understands, a detail for the person
 * reading the logs, for invalid input every field named, and for a taken
 * opportunity the fields that differ. Shaped by ProblemSchema, which the
 * OpenAPI document describes.
 */
import type { FastifyReply } from 'fastify';
import { ProblemSchema, type Problem as ProblemBody } from './schemas.ts';

export type Problem = Omit<ProblemBody, 'type'>;

export const PROBLEM_TYPE = 'application/problem+json';

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_TYPE).header('cache-control', 'no-store').send(problemBody(problem));
}

/** The document as sent: our problems have no page of their own to point to (about:blank), their title says it all. */
export function problemBody(problem: Problem): ProblemBody {
  return ProblemSchema.parse({ type: 'about:blank', ...problem });
}

/** What Fastify itself refuses before a route runs (body too large, not JSON, malformed JSON), in the same form. */
export function problemOfFramework(statusCode: number | undefined): Problem | undefined {
  if (statusCode === 413) return { status: 413, title: 'Content Too Large', detail: 'The request body is larger than this endpoint accepts.' };
  if (statusCode === 415) return { status: 415, title: 'Unsupported Media Type', detail: 'Send the body as application/json.' };
  if (statusCode === 400) return { status: 400, title: 'Bad Request', detail: 'The body is not valid JSON.' };
  return undefined;
}

/** 422 naming every bad field, each with what to do about it. */
export function invalidInput(what: string, problems: readonly { field: string; message: string }[]): Problem {
  const errors = problems.map((p) => ({ field: p.field, detail: p.message }));
  return { status: 422, title: 'Unprocessable Content', detail: `${what}: ${errors.map((e) => e.field).join(', ')}.`, errors };
}
