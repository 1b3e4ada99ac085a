/**
 * The admin panel: the jobs list, one job, tenants, and the actions people
 * take on a job. Routes are thin: they check the session (and, for every
 * change, its CSRF token and the request's origin), resolve the person, call
 * the same services as Slack and the CLI, and render a page. A refusal is
 * shown on the job's page in the policy's own words.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ControlRoom } from '../../app/control-room.ts';
import type { ProvisioningService } from '../../app/services.ts';
import { ActionRefusedError, InvalidInputError } from '../../domain/errors.ts';
import type { EventFeed } from '../../engine/feed.ts';
import { csrfMatches, sameOrigin, type SessionSettings } from '../auth/session.ts';
import { viewerOf, type SignedInCheck } from '../auth/signed-in.ts';
import { fieldsOf } from '../fields.ts';
import { jobPage } from '../pages/job-page.ts';
import { jobsPage, jobsTableBody } from '../pages/jobs-page.ts';
import { messagePage } from '../pages/sign-in-page.ts';
import { tenantsPage } from '../pages/tenants-page.ts';
import { jobActions, jobQueryOf } from './admin-forms.ts';
import { openEventStream } from './event-stream.ts';
import { flash as setFlash, takeFlash as readFlash, type Notice } from './flash.ts';
import { sendPage } from './html.ts';

export type AdminDeps = {
  service: ProvisioningService;
  controlRoom: ControlRoom;
  sessions: SessionSettings;
  feed: EventFeed;
  /** The signed-in person, or a redirect to sign in (pages) / 401 (streams and fragments). */
  signedIn: SignedInCheck;
  /** A link to the job's thread in #onboarding, when Slack is on. */
  slackThread(jobId: string): Promise<string | undefined>;
  publicOrigin(request: FastifyRequest): string;
};

export const adminRoutes: FastifyPluginAsync<AdminDeps> = async (server, deps) => {
  const flash = (reply: FastifyReply, notice: Notice) => setFlash(deps.sessions, reply, notice);
  const takeFlash = (request: FastifyRequest, reply: FastifyReply) => readFlash(deps.sessions, request, reply);

  server.get('/admin', async (request, reply) => {
    const me = await deps.signedIn(request, reply);
    if (!me) return reply;
    const { filters, query } = jobQueryOf(fieldsOf(request.query));
    const found = deps.controlRoom.jobs(query);
    const data = {
      viewer: viewerOf(me),
      rows: found.rows,
      filters,
      plans: deps.controlRoom.plans(),
      page: found.page,
      pageCount: found.pageCount,
      total: found.total,
    };
    return sendPage(reply, 200, jobsPage(data).text);
  });

  server.get('/admin/jobs/rows', async (request, reply) => {
    if (!(await deps.signedIn(request, reply))) return reply;
    const { query } = jobQueryOf(fieldsOf(request.query));
    return sendPage(reply, 200, jobsTableBody(deps.controlRoom.jobs(query)).text);
  });

  server.get('/admin/events', async (request, reply) => {
    if (!(await deps.signedIn(request, reply))) return reply;
    openEventStream(
      request,
      reply,
      deps.feed,
      () => true,
      (event) => ({ event: 'job', data: JSON.stringify({ jobId: event.jobId }) }),
    );
    return reply;
  });

  server.get<{ Params: { jobId: string } }>('/admin/jobs/:jobId', async (request, reply) => {
    const me = await deps.signedIn(request, reply);
    if (!me) return reply;
    const detail = await deps.controlRoom.job(request.params.jobId).catch((err: unknown) => {
      if (err instanceof ActionRefusedError) return undefined;
      throw err;
    });
    if (!detail)
      return sendPage(
        reply,
        404,
        messagePage('No such job', `There is no job "${request.params.jobId}".`, { href: '/admin', label: 'All jobs' }).text,
      );
    const notice = takeFlash(request, reply);
    const body = jobPage({
      viewer: viewerOf(me),
      view: detail.view,
      createdAt: detail.createdAt,
      attempts: detail.attempts,
      audit: detail.lines,
      slackThread: await deps.slackThread(detail.view.jobId),
      notice: notice ? { kind: notice.kind, text: notice.text } : undefined,
      sharedStatusUrl: notice?.shared,
      plan: detail.plan,
    });
    return sendPage(reply, 200, body.text);
  });

  server.get<{ Params: { jobId: string } }>('/admin/jobs/:jobId/events', async (request, reply) => {
    if (!(await deps.signedIn(request, reply))) return reply;
    const { jobId } = request.params;
    openEventStream(
      request,
      reply,
      deps.feed,
      (event) => event.jobId === jobId,
      (event) => ({ event: 'job', data: JSON.stringify({ type: event.type }) }),
    );
    return reply;
  });

  server.post<{ Params: { jobId: string; action: string } }>('/admin/jobs/:jobId/:action', async (request, reply) => {
    const me = await deps.signedIn(request, reply);
    if (!me) return reply;
    const form = fieldsOf(request.body);
    if (!csrfMatches(me.session, form['_csrf']) || !sameOrigin(request)) {
      return sendPage(
        reply,
        403,
        messagePage('Not done', 'That form did not come from this admin panel, or it is out of date. Reload the page and try again.').text,
      );
    }
    const { jobId, action } = request.params;
    const back = `/admin/jobs/${encodeURIComponent(jobId)}`;
    try {
      if (action === 'share') {
        const shared = await deps.service.shareStatusPage(jobId, me.who);
        flash(reply, { kind: 'done', text: 'A customer status page was created for this job.', shared });
        return reply.redirect(back, 303);
      }
      const run = jobActions[action];
      if (!run) return sendPage(reply, 404, messagePage('No such action', `"${action}" is not something the admin panel does.`).text);
      const done = await run(deps.service, me.who, jobId, form);
      flash(reply, { kind: 'done', text: done });
    } catch (err) {
      if (err instanceof InvalidInputError) flash(reply, { kind: 'refused', text: err.problems.map((p) => p.message).join('; ') });
      else if (err instanceof ActionRefusedError) flash(reply, { kind: 'refused', text: err.message });
      else throw err;
    }
    return reply.redirect(back, 303);
  });

  server.get('/admin/tenants', async (request, reply) => {
    const me = await deps.signedIn(request, reply);
    if (!me) return reply;
    return sendPage(reply, 200, tenantsPage({ viewer: viewerOf(me), tenants: await deps.controlRoom.tenants() }).text);
  });
};
