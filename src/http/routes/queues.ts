/**
 * The step queue's own dashboard (Bull Board), behind the control room's sign-in. Bull Board's read-only mode
 * belongs to a mounted board (its queue adapters), not to a request, so it is mounted twice:
 * - /admin/queues, read-only, for everyone signed in: the board hides its buttons and its API refuses changes;
 * - /admin/queues/manage, the full board, for admins only (decideQueueChange).
 * On both, any request but GET/HEAD must come from an admin and from our own origin: the board's API is JSON
 * fetches carrying the session cookie, as open to cross-site forgery as any form.
 *
 * Bull Board's page carries a few inline styles (its loading dots) and a Google Fonts stylesheet, which our pages'
 * CSP refuses. Its pages get a CSP of their own: our pages' policy plus the hashes of exactly the inline styles its
 * template ships. The off-site stylesheet is taken out of the page instead (the board falls back to system fonts):
 * nothing of ours loads from elsewhere, and every admin opening the board would otherwise be announced to a third party.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import type { BaseAdapter } from '@bull-board/api/baseAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { decideQueueChange } from '../../domain/policy.ts';
import { sameOrigin } from '../auth/session.ts';
import { wantsPage, type SignedInCheck } from '../auth/signed-in.ts';
import { messagePage } from '../pages/sign-in-page.ts';

export const QUEUES_PATH = '/admin/queues';
export const MANAGE_QUEUES_PATH = '/admin/queues/manage';

export type QueueBoardDeps = {
  signedIn: SignedInCheck;
  /** The queues the board shows, as Bull Board adapters, read-only or not. */
  queues(readOnly: boolean): BaseAdapter[];
};

type Board = { path: string; readOnly: boolean; badge: string };

const BOARDS: readonly Board[] = [
  { path: QUEUES_PATH, readOnly: true, badge: 'view only' },
  { path: MANAGE_QUEUES_PATH, readOnly: false, badge: 'admin' },
];

/** The Bull Board UI this server serves: its page template is where the inline styles to allow are read from. */
const UI_BASE = dirname(createRequire(import.meta.url).resolve('@bull-board/ui/package.json'));

export const queueRoutes: FastifyPluginAsync<QueueBoardDeps> = async (server, deps) => {
  const csp = boardPolicy(readFileSync(join(UI_BASE, 'dist', 'index.ejs'), 'utf8'));
  for (const board of BOARDS) await server.register((scope) => mount(scope, deps, board, csp));
};

async function mount(scope: FastifyInstance, deps: QueueBoardDeps, board: Board, csp: string): Promise<void> {
  const adapter = new FastifyAdapter().setBasePath(board.path);
  createBullBoard({
    queues: deps.queues(board.readOnly),
    serverAdapter: adapter,
    options: {
      uiBasePath: UI_BASE,
      uiConfig: {
        boardTitle: 'Step queue',
        environment: { label: board.badge, color: '#e5e7eb', textColor: '#1f2937' },
        hideDocsLink: true,
        // Its Redis logo carries an inline <style> from the board's script, which the board's CSP does not allow.
        hideRedisDetails: true,
        miscLinks: [{ text: 'Control room', url: '/admin' }],
      },
    },
  });
  scope.addHook('onRequest', async (request, reply) => {
    const me = await deps.signedIn(request, reply);
    if (!me) return reply;
    const changes = request.method !== 'GET' && request.method !== 'HEAD';
    if (changes || !board.readOnly) {
      const decision = decideQueueChange(me.who);
      if (!decision.allowed) return refuse(request, reply, decision.reason);
    }
    if (changes && !sameOrigin(request)) return refuse(request, reply, 'That change did not come from the queue dashboard itself.');
    return undefined;
  });
  scope.addHook('onSend', async (_request, reply, payload) => {
    // Runs after the pages' own hook, so this policy replaces theirs on the board's responses only.
    reply.header('content-security-policy', csp);
    // The board's page and API show live job data: like the admin pages, never kept in a cache. Its scripts may be.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    const html = String(reply.getHeader('content-type') ?? '').startsWith('text/html');
    return html && typeof payload === 'string' ? withoutOffsiteLinks(payload) : payload;
  });
  await scope.register(adapter.registerPlugin(), { prefix: board.path });
}

/** 403 in the form the asker reads: a page for a browser, Bull Board's error shape for its own fetches. */
async function refuse(request: FastifyRequest, reply: FastifyReply, reason: string): Promise<FastifyReply> {
  reply.code(403).header('cache-control', 'no-store');
  if (wantsPage(request)) {
    const page = messagePage('Not allowed', reason, { href: QUEUES_PATH, label: 'Watch the step queue' });
    return reply.type('text/html').send(page.text);
  }
  return reply.send({ error: { key: 'ERRORS.FORBIDDEN' }, message: reason });
}

/** Our pages' policy, plus the inline styles of the board's page template (by hash) and a base URL on our origin. */
export function boardPolicy(template: string): string {
  const attributes = [...template.matchAll(/\sstyle="([^"]*)"/g)].map((m) => hash(m[1] ?? ''));
  const elements = [...template.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => hash(m[1] ?? ''));
  const inline = [...new Set([...attributes, ...elements])].map((h) => `'${h}'`);
  const styles = attributes.length > 0 ? ["'unsafe-hashes'", ...inline] : inline;
  return [
    "default-src 'self'",
    "img-src 'self' data:",
    `style-src 'self' ${styles.join(' ')}`.trim(),
    "script-src 'self'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

function hash(text: string): string {
  return `sha256-${createHash('sha256').update(text).digest('base64')}`;
}

/** The page without <link> elements that load from another origin (Bull Board's web fonts). */
export function withoutOffsiteLinks(page: string): string {
  return page.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>/g, '');
}
