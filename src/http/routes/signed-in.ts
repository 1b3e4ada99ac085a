/**
 * The admin pages' door: who is signed in (resolved to a person with roles
 * on every request), or a redirect to sign in for a page and a 401 for a
 * stream, fragment or download.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Identity } from '../../domain/policy.ts';
import { readSession, type Session, type SessionSettings } from '../auth/session.ts';
import type { Viewer } from '../pages/layout.ts';
import { messagePage } from '../pages/sign-in-page.ts';

export type SignedIn = { who: Identity; session: Session };

export function sendPage(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/html').header('cache-control', 'no-store').send(text);
}

export function signedInGate(deps: {
  sessions: SessionSettings;
  identify(session: Session): Promise<Identity>;
}): (request: FastifyRequest, reply: FastifyReply) => Promise<SignedIn | undefined> {
  return async (request, reply) => {
    const session = readSession(request, deps.sessions);
    if (!session) {
      const path = request.url.split('?')[0] ?? '';
      const wantsPage = request.method === 'GET' && (request.headers.accept ?? '').includes('text/html') && !path.endsWith('/events');
      if (wantsPage) await reply.redirect(`/auth/sign-in?next=${encodeURIComponent(request.url)}`, 303);
      else await sendPage(reply, 401, messagePage('Signed out', 'Sign in again to continue.', { href: '/auth/sign-in', label: 'Sign in' }).text);
      return undefined;
    }
    return { who: await deps.identify(session), session };
  };
}

/** How the page frame shows the person: their name, the form token, and whether they may act on jobs. */
export function viewerOf(who: Identity, session: Session): Viewer {
  return { name: who.name, csrf: session.csrf, canAct: who.roles.has('admin') || who.roles.has('approver') };
}
