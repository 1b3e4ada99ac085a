/**
 * Okta's wire conventions, for the fake: the error body every endpoint
 * answers with, Okta-shaped ids, Link-header pagination with absolute
 * URLs (the SDK follows them as given) and validated request bodies.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type Reply = { status: number; body?: Json; headers?: Record<string, string | string[]> };

/** One request as the route handlers see it; `params` are the path's captured ids. */
export type Call = {
  method: string;
  path: string;
  params: readonly string[];
  query: URLSearchParams;
  body: unknown;
  baseUrl: string;
};

export type Route = { method: string; pattern: RegExp; handle(call: Call): Reply };

const ERROR_SUMMARIES: Record<string, string> = {
  E0000001: 'Api validation failed',
  E0000003: 'The request body was not well-formed.',
  E0000006: 'You do not have permission to perform the requested action',
  E0000009: 'Internal Server Error',
  E0000011: 'Invalid token provided',
  E0000022: 'The endpoint does not support the provided HTTP method',
  E0000031: 'Invalid search criteria.',
  E0000038: "This operation is not allowed in the user's current status.",
  E0000047: 'API call exceeded rate limit due to too many requests.',
  E0000056: 'Delete application forbidden.',
};

/** Thrown by handlers; the server turns it into Okta's error body. */
export class OktaFakeError extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly causes: readonly string[];
  constructor(status: number, errorCode: string, summary?: string, causes: readonly string[] = []) {
    super(summary ?? ERROR_SUMMARIES[errorCode] ?? errorCode);
    this.status = status;
    this.errorCode = errorCode;
    this.causes = causes;
  }

  static notFound(id: string, type: string): OktaFakeError {
    return new OktaFakeError(404, 'E0000007', `Not found: Resource not found: ${id} (${type})`);
  }

  /** Okta names the field in the summary and explains it in the causes. */
  static validation(field: string, cause: string): OktaFakeError {
    return new OktaFakeError(400, 'E0000001', `Api validation failed: ${field}`, [`${field}: ${cause}`]);
  }

  static forStatus(status: number): OktaFakeError {
    if (status === 429) return new OktaFakeError(429, 'E0000047');
    if (status === 401) return new OktaFakeError(401, 'E0000011');
    if (status === 403) return new OktaFakeError(403, 'E0000006');
    if (status === 404) return new OktaFakeError(404, 'E0000007', 'Not found: Resource not found');
    if (status >= 500) return new OktaFakeError(status, 'E0000009');
    return new OktaFakeError(status, 'E0000001', 'Api validation failed');
  }
}

export function errorBody(err: OktaFakeError): JsonObject {
  return {
    errorCode: err.errorCode,
    errorSummary: err.message,
    errorLink: err.errorCode,
    errorId: `oae${randomText(19)}`,
    errorCauses: err.causes.map((cause) => ({ errorSummary: cause })),
  };
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomText(length: number): string {
  return [...randomBytes(length)].map((byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
}

let created = 0;

/**
 * 20 characters like Okta's ("00g…" groups, "00u…" users, "0oa…" apps and
 * IdPs). A creation counter after the prefix makes ids sort in creation
 * order, which is what the `after` cursor pages by.
 */
export function oktaId(prefix: string): string {
  created += 1;
  return `${prefix}${created.toString(36).padStart(7, '0')}${randomText(10)}`;
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, '.000Z');
}

const MAX_LIMIT = 200;

function limitOf(call: Call, defaultLimit: number): number {
  const limit = Number(call.query.get('limit') ?? defaultLimit);
  if (!Number.isInteger(limit) || limit < 1) return defaultLimit;
  return Math.min(limit, MAX_LIMIT);
}

function pageUrl(call: Call, changes: Record<string, string>): string {
  const query = new URLSearchParams(call.query);
  for (const [name, value] of Object.entries(changes)) query.set(name, value);
  return `${call.baseUrl}${call.path}?${query.toString()}`;
}

/** One page of a collection, with Okta's `self` and `next` Link headers. */
export function paged<T extends { id: string }>(call: Call, items: Iterable<T>, render: (item: T) => Json, defaultLimit: number): Reply {
  const limit = limitOf(call, defaultLimit);
  const after = call.query.get('after');
  const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rest = after === null ? sorted : sorted.filter((item) => item.id > after);
  const page = rest.slice(0, limit);
  const links = [`<${pageUrl(call, { limit: String(limit) })}>; rel="self"`];
  const last = page.at(-1);
  if (rest.length > limit && last !== undefined) {
    links.push(`<${pageUrl(call, { after: last.id, limit: String(limit) })}>; rel="next"`);
  }
  return { status: 200, body: page.map(render), headers: { link: links } };
}

/** Validates a request body; the first problem becomes Okta's E0000001 naming the field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // Okta names profile attributes without the "profile." prefix ("Api validation failed: login").
  const field = (issue === undefined ? '' : issue.path.map(String).join('.')).replace(/^profile\./, '') || 'body';
  const blank = issue?.code === 'invalid_type' && issue.input === undefined;
  throw OktaFakeError.validation(field, blank ? 'The field cannot be left blank' : (issue?.message ?? 'invalid'));
}

export const jsonObject: z.ZodType<JsonObject> = z.record(z.string(), z.json());

export function ok(body: Json): Reply {
  return { status: 200, body };
}

export const NO_CONTENT: Reply = { status: 204 };
