/**
 * Who is calling the API: a program named in API_CALLERS, proved by its
 * bearer token (RFC 6750). The same for every API route, so the CRM's
 * requests authenticate as the product's activation events do.
 */
import { callerDisplayName, callerWithToken, type ApiCallers } from '../../domain/api-callers.ts';
import type { Identity } from '../../domain/policy.ts';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The caller as an Identity on the 'api' door; undefined without a token, or with one that matches no caller. */
export function apiCaller(authorization: string | undefined, callers: ApiCallers): Identity | undefined {
  const token = BEARER.exec(authorization ?? '')?.[1];
  if (token === undefined) return undefined;
  const id = callerWithToken(token, callers);
  const caller = id === undefined ? undefined : callers.get(id);
  if (id === undefined || !caller) return undefined;
  return { door: 'api', id, name: callerDisplayName(id), roles: caller.roles };
}
