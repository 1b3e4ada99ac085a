/**
 * A notice for the next page an admin action redirects to (what was done, or
 * why it was refused): a signed cookie, read once, on every /admin path.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionSettings } from '../auth/session.ts';
import { sign, unsign } from '../auth/signed.ts';

export type Notice = { kind: 'done' | 'refused'; text: string; shared?: string };

const FLASH = 'prov_flash';

export function flash(sessions: SessionSettings, reply: FastifyReply, notice: Notice): void {
  reply.setCookie(FLASH, sign(sessions.secret, 'flash', notice), {
    httpOnly: true,
    sameSite: 'lax',
    secure: sessions.secureCookies,
    path: '/admin',
    maxAge: 60,
  });
}

export function takeFlash(sessions: SessionSettings, request: FastifyRequest, reply: FastifyReply): Notice | undefined {
  const raw = request.cookies[FLASH];
  if (!raw) return undefined;
  reply.clearCookie(FLASH, { path: '/admin' });
  const value = unsign(sessions.secret, 'flash', raw);
  if (value === null || typeof value !== 'object') return undefined;
  const kind = Reflect.get(value, 'kind');
  const text = Reflect.get(value, 'text');
  const shared = Reflect.get(value, 'shared');
  if ((kind !== 'done' && kind !== 'refused') || typeof text !== 'string') return undefined;
  return { kind, text, ...(typeof shared === 'string' ? { shared } : {}) };
}
