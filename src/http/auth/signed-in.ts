/**
 * The one check every signed-in page and API of the control room makes: read
 * the session, resolve the person it names (roles are looked up on every
 * request), or answer for them — a browser asking for a page is sent to sign
 * in and brought back afterwards; anything else (streams, fragments, JSON
 * fetches) gets 401.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decideQueueChange, type Identity } from '../../domain/policy.ts';
import type { Viewer } from '../pages/layout.ts';
import { messagePage } from '../pages/sign-in-page.ts';
import { readSession, type Session, type SessionSettings } from './session.ts';

export type SignedIn = { who: Identity; session: Session };

/** The signed-in person, or undefined once the reply has been sent. */
export type SignedInCheck = (request: FastifyRequest, reply: FastifyReply) => Promise<SignedIn | undefined>;

export function signedInCheck(deps: { sessions: SessionSettings; identify(session: Session): Promise<Identity> }): SignedInCheck {
  return async (request, reply) => {
    const session = readSession(request, deps.sessions);
    if (session) return { who: await deps.identify(session), session };
    if (wantsPage(request)) {
      await reply.redirect(`/auth/sign-in?next=${encodeURIComponent(request.url)}`, 303);
    } else {
      const page = messagePage('Signed out', 'Sign in again to continue.', { href: '/auth/sign-in', label: 'Sign in' });
      await reply.code(401).type('text/html').header('cache-control', 'no-store').send(page.text);
    }
    return undefined;
  };
}

/** A browser navigating to a page (not an event stream, not a script's fetch). */
export function wantsPage(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html') && !request.url.endsWith('/events');
}

/** What every signed-in page shows of the person: their name, their CSRF token, and which controls they may use. */
export function viewerOf({ who, session }: SignedIn): Viewer {
  return {
    name: who.name,
    csrf: session.csrf,
    canAct: who.roles.has('admin') || who.roles.has('approver'),
    managesQueues: decideQueueChange(who).allowed,
  };
}
