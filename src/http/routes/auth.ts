/**
 * Signing in and out of the web pages. Sign in with Slack (OpenID Connect,
 * state signed and bound to the browser by a short-lived cookie, nonce
 * checked in the id token) or a one-time link an operator printed; either way
 * the result is a signed session cookie. Only local paths are followed after
 * sign-in, so the flow cannot be used to send someone elsewhere.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { OneTimeTokens } from '../../ports/one-time-tokens.ts';
import type { SlackSignIn } from '../../ports/sign-in.ts';
import { clearSession, csrfMatches, newSession, readSession, sameOrigin, writeSession, type SessionSettings } from '../auth/session.ts';
import { sign, unsign } from '../auth/signed.ts';
import { fieldsOf } from '../fields.ts';
import { messagePage, signInPage } from '../pages/sign-in-page.ts';

export type AuthDeps = {
  sessions: SessionSettings;
  signIn: SlackSignIn | undefined;
  oneTimeLinks: OneTimeTokens;
  /** The address people reach this server at, e.g. https://provisioner.example.com. */
  publicOrigin(request: FastifyRequest): string;
  onError(err: unknown): void;
};

const STATE_COOKIE = 'prov_oidc';
const STATE_MINUTES = 10;
const StateSchema = z.object({ nonce: z.string(), next: z.string(), exp: z.number() });

/** A path on this server's admin pages, or the jobs list. */
export function localNext(raw: unknown): string {
  return typeof raw === 'string' && /^\/admin(\/[\w\-./%?=&]*)?$/.test(raw) && !raw.includes('//') ? raw : '/admin';
}

export const authRoutes: FastifyPluginAsync<AuthDeps> = async (server, deps) => {
  const query = (request: FastifyRequest) => fieldsOf(request.query);

  server.get('/auth/sign-in', async (request, reply) => {
    const next = localNext(query(request)['next']);
    const slackUrl = deps.signIn ? `/auth/slack?next=${encodeURIComponent(next)}` : undefined;
    return reply.type('text/html').header('cache-control', 'no-store').send(signInPage({ slackUrl }).text);
  });

  server.get('/auth/slack', async (request, reply) => {
    if (!deps.signIn)
      return reply.code(404).type('text/html').send(messagePage('Not set up', 'Sign in with Slack is not set up on this server.').text);
    const nonce = randomBytes(18).toString('base64url');
    const state = sign(deps.sessions.secret, 'oidc-state', {
      nonce,
      next: localNext(query(request)['next']),
      exp: Date.now() + STATE_MINUTES * 60_000,
    });
    reply.setCookie(STATE_COOKIE, nonce, {
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.sessions.secureCookies,
      path: '/auth',
      maxAge: STATE_MINUTES * 60,
    });
    return reply.redirect(deps.signIn.authorizeUrl({ state, nonce, redirectUri: `${deps.publicOrigin(request)}/auth/slack/callback` }), 302);
  });

  server.get('/auth/slack/callback', async (request, reply) => {
    const refuse = (problem: string) =>
      reply
        .code(400)
        .type('text/html')
        .header('cache-control', 'no-store')
        .send(signInPage({ slackUrl: '/auth/slack', problem }).text);
    if (!deps.signIn) return refuse('Sign in with Slack is not set up on this server.');
    const q = query(request);
    if (typeof q['error'] === 'string') return refuse('Slack did not sign you in (the request was declined). Try again.');
    const state = StateSchema.safeParse(unsign(deps.sessions.secret, 'oidc-state', q['state'] ?? ''));
    const nonce = request.cookies[STATE_COOKIE];
    if (!state.success || state.data.exp < Date.now() || !nonce || nonce !== state.data.nonce) {
      return refuse('This sign-in attempt is out of date or was not started here. Start again.');
    }
    const code = q['code'];
    if (typeof code !== 'string' || code === '') return refuse('Slack sent no sign-in code. Start again.');
    try {
      const person = await deps.signIn.exchange({ code, redirectUri: `${deps.publicOrigin(request)}/auth/slack/callback`, nonce });
      reply.clearCookie(STATE_COOKIE, { path: '/auth' });
      writeSession(reply, newSession({ via: 'slack', id: person.userId, name: person.name }), deps.sessions);
      return reply.redirect(state.data.next, 303);
    } catch (err) {
      deps.onError(err);
      return refuse(err instanceof Error && err.name === 'SignInRefused' ? err.message : 'Slack could not confirm who you are. Try again.');
    }
  });

  server.get<{ Params: { token: string } }>('/auth/one-time/:token', async (request, reply) => {
    const operator = await deps.oneTimeLinks.redeem(request.params.token);
    if (!operator) {
      return reply
        .code(404)
        .type('text/html')
        .header('cache-control', 'no-store')
        .send(
          messagePage('Link not valid', 'This sign-in link was already used or has expired. Ask for a new one.', {
            href: '/auth/sign-in',
            label: 'Sign in',
          }).text,
        );
    }
    writeSession(reply, newSession({ via: 'operator', id: operator, name: operator }), deps.sessions);
    return reply.redirect('/admin', 303);
  });

  server.post('/auth/sign-out', async (request, reply) => {
    const session = readSession(request, deps.sessions);
    const body = fieldsOf(request.body);
    if (session && (!csrfMatches(session, body['_csrf']) || !sameOrigin(request))) {
      return reply.code(403).type('text/html').send(messagePage('Not signed out', 'That request did not come from this site.').text);
    }
    clearSession(reply, deps.sessions);
    return reply.redirect('/auth/sign-in', 303);
  });
};
