/**
 * A tenant's page in the admin panel and its lifecycle actions: thin routes
 * that check the session (and, for a change, its CSRF token and origin),
 * call the lifecycle service through the forms in tenant-forms.ts, and send
 * the person to the job that was started — or back to the tenant's page with
 * the refusal in the service's own words.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ControlRoom } from '../../app/control-room.ts';
import type { ProvisioningService } from '../../app/services.ts';
import { ActionRefusedError, InvalidInputError, UnknownTenantError } from '../../domain/errors.ts';
import { csrfMatches, sameOrigin, type SessionSettings } from '../auth/session.ts';
import { viewerOf, type SignedInCheck } from '../auth/signed-in.ts';
import { fieldsOf } from '../fields.ts';
import { messagePage } from '../pages/sign-in-page.ts';
import { tenantPage } from '../pages/tenant-page.ts';
import { flash, takeFlash } from './flash.ts';
import { askedWords, tenantActions } from './tenant-forms.ts';
import { sendPage } from './html.ts';

export type AdminTenantDeps = {
  service: ProvisioningService;
  controlRoom: ControlRoom;
  sessions: SessionSettings;
  signedIn: SignedInCheck;
};

const tenantPath = (slug: string) => `/admin/tenants/${encodeURIComponent(slug)}`;

export const adminTenantRoutes: FastifyPluginAsync<AdminTenantDeps> = async (server, deps) => {
  server.get<{ Params: { slug: string } }>('/admin/tenants/:slug', async (request, reply) => {
    const me = await deps.signedIn(request, reply);
    if (!me) return reply;
    const detail = await deps.controlRoom.tenant(request.params.slug).catch((err: unknown) => {
      if (err instanceof UnknownTenantError) return undefined;
      throw err;
    });
    if (!detail) {
      const missing = messagePage('No such tenant', `There is no tenant "${request.params.slug}".`, { href: '/admin/tenants', label: 'All tenants' });
      return sendPage(reply, 404, missing.text);
    }
    const notice = takeFlash(deps.sessions, request, reply);
    const body = tenantPage({
      viewer: viewerOf(me),
      detail,
      notice: notice ? { kind: notice.kind, text: notice.text } : undefined,
      requestId: randomUUID(),
    });
    return sendPage(reply, 200, body.text);
  });

  server.post<{ Params: { slug: string; action: string } }>('/admin/tenants/:slug/:action', async (request, reply) => {
    const me = await deps.signedIn(request, reply);
    if (!me) return reply;
    const form = fieldsOf(request.body);
    if (!csrfMatches(me.session, form['_csrf']) || !sameOrigin(request)) {
      const stale = messagePage('Not done', 'That form did not come from this admin panel, or it is out of date. Reload the page and try again.');
      return sendPage(reply, 403, stale.text);
    }
    const { slug, action } = request.params;
    const handler = Object.hasOwn(tenantActions, action) ? tenantActions[action] : undefined;
    if (!handler) return sendPage(reply, 404, messagePage('No such action', `"${action}" is not something the admin panel does to tenants.`).text);
    try {
      const { outcome, job } = await handler.ask(deps.service, me.who, slug, form);
      flash(deps.sessions, reply, { kind: 'done', text: askedWords(handler.kind, job.tenant.slug, outcome) });
      return reply.redirect(`/admin/jobs/${encodeURIComponent(job.jobId)}`, 303);
    } catch (err) {
      if (err instanceof InvalidInputError) flash(deps.sessions, reply, { kind: 'refused', text: err.problems.map((p) => p.message).join('; ') });
      else if (err instanceof ActionRefusedError) flash(deps.sessions, reply, { kind: 'refused', text: err.message });
      else throw err;
    }
    return reply.redirect(tenantPath(slug), 303);
  });
};
