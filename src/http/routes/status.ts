/**
 * The customer's status page, /status/<token>: no sign-in, only a link that
 * is signed, revocable and expires after go-live. Anything else — a forged,
 * altered, withdrawn or expired token — is a plain 404, the same as a page
 * that never existed. Live over server-sent events; works without scripts.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { StatusLinks } from '../../app/status-links.ts';
import type { JobView } from '../../domain/job-view.ts';
import { customerProgress } from '../../domain/milestones.ts';
import type { EventFeed } from '../../engine/feed.ts';
import { notFoundPage, progressFragment, statusPage } from '../pages/status-page.ts';
import { openEventStream } from './event-stream.ts';

export type StatusDeps = { statusLinks: StatusLinks; feed: EventFeed; view(jobId: string): Promise<JobView | null>; onError(err: unknown): void };

/** Customers may open the link often; the page is private to whoever holds it, never cached by a proxy. */
const PRIVATE = { 'cache-control': 'no-store', 'x-robots-tag': 'noindex', 'referrer-policy': 'no-referrer' };

export const statusRoutes: FastifyPluginAsync<StatusDeps> = async (server, deps) => {
  const resolve = (token: string) => deps.statusLinks.resolve(token, (jobId) => deps.view(jobId));

  server.get<{ Params: { token: string } }>('/status/:token', async (request, reply) => {
    const job = await resolve(request.params.token);
    reply.headers(PRIVATE).type('text/html');
    if (!job) return reply.code(404).send(notFoundPage().text);
    return reply.send(statusPage(customerProgress(job), `/status/${encodeURIComponent(request.params.token)}/events`).text);
  });

  server.get<{ Params: { token: string } }>('/status/:token/events', async (request, reply) => {
    const job = await resolve(request.params.token);
    if (!job) return reply.code(404).headers(PRIVATE).type('text/plain').send('Not found');
    let last = progressFragment(customerProgress(job)).text;
    // Each change of the job: render the customer's view again and send it when it differs.
    openEventStream(
      request,
      reply,
      deps.feed,
      (event) => event.jobId === job.jobId,
      async () => {
        const fresh = await deps.view(job.jobId);
        const html = fresh ? progressFragment(customerProgress(fresh)).text : last;
        if (html === last) return undefined;
        last = html;
        return { event: 'progress', data: html };
      },
      deps.onError,
    );
    return reply;
  });
};
