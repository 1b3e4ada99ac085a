/**
 * Who is signed in to the web pages: a signed, HttpOnly, SameSite=Lax cookie
 * holding the person (a Slack user, or the local operator who used a one-time
 * link), an expiry and the session's CSRF token. Nothing in it grants a role:
 * roles are looked up on every request, so removing an approver takes effect
 * at once.
 */
import { randomBytes } from 'node:crypto';
import { sameBytes } from '../../domain/same-bytes.ts';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sign, unsign } from './signed.ts';

export const SESSION_COOKIE = 'prov_session';
const PURPOSE = 'session';
const SESSION_HOURS = 12;

const SessionSchema = z.object({
  /** 'slack': signed in with Slack (id is the Slack user id); 'operator': a one-time link for a configured operator. */
  via: z.enum(['slack', 'operator']),
  id: z.string().min(1),
  name: z.string().min(1),
  csrf: z.string().min(20),
  exp: z.number(),
});
export type Session = z.output<typeof SessionSchema>;

export type SessionSettings = { secret: string; secureCookies: boolean };

export function newSession(person: Pick<Session, 'via' | 'id' | 'name'>, now = Date.now()): Session {
  return { ...person, csrf: randomBytes(24).toString('base64url'), exp: now + SESSION_HOURS * 3600_000 };
}

export function readSession(request: FastifyRequest, settings: SessionSettings, now = Date.now()): Session | undefined {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const parsed = SessionSchema.safeParse(unsign(settings.secret, PURPOSE, raw));
  if (!parsed.success || parsed.data.exp <= now) return undefined;
  return parsed.data;
}

export function writeSession(reply: FastifyReply, session: Session, settings: SessionSettings): void {
  reply.setCookie(SESSION_COOKIE, sign(settings.secret, PURPOSE, session), {
    httpOnly: true,
    sameSite: 'lax',
    secure: settings.secureCookies,
    path: '/',
    maxAge: Math.max(0, Math.floor((session.exp - Date.now()) / 1000)),
  });
}

export function clearSession(reply: FastifyReply, settings: SessionSettings): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: settings.secureCookies });
}

/** The CSRF token a form sent matches its session's, compared in constant time. */
export function csrfMatches(session: Session, sent: unknown): boolean {
  if (typeof sent !== 'string') return false;
  return sameBytes(sent, session.csrf);
}

/**
 * A state-changing request must come from our own pages: when the browser
 * says where it comes from (Origin, or Referer), its host must be the host
 * the browser sent this request to. A page elsewhere cannot forge either.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const host = request.headers.host;
  const from = request.headers.origin ?? request.headers.referer;
  if (typeof from !== 'string') return true;
  try {
    return new URL(from).host === host;
  } catch {
    return false;
  }
}
