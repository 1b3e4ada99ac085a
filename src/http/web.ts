/**
 * The web control room on the one HTTP server: Slack's requests (HTTP mode),
 * the admin panel with its sign-in, the customers' status pages and the
 * assets they share. Health and metrics come from createHttpServer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BaseAdapter } from '@bull-board/api/baseAdapter';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ControlRoom } from '../app/control-room.ts';
import type { ProvisioningService } from '../app/services.ts';
import type { StatusLinks } from '../app/status-links.ts';
import type { JobView } from '../domain/job-view.ts';
import type { Identity } from '../domain/policy.ts';
import type { EventFeed } from '../engine/feed.ts';
import type { OneTimeTokens } from '../ports/one-time-tokens.ts';
import type { SlackSignIn } from '../ports/sign-in.ts';
import type { Session, SessionSettings } from './auth/session.ts';
import { signedInCheck } from './auth/signed-in.ts';
import type { KpiService } from '../app/kpis.ts';
import type { ApiCallers } from '../domain/api-callers.ts';
import type { IdempotentRequests } from '../app/idempotent-requests.ts';
import type { CallerRateLimit } from '../ports/rate-limit.ts';
import { adminRoutes } from './routes/admin.ts';
import { adminTenantRoutes } from './routes/admin-tenants.ts';
import { apiV1Routes } from './routes/api/v1.ts';
import { assetRoutes } from './routes/assets.ts';
import { kpiRoutes } from './routes/kpis.ts';
import { authRoutes } from './routes/auth.ts';
import { queueRoutes } from './routes/queues.ts';
import { slackRoutes } from './routes/slack.ts';
import { statusRoutes } from './routes/status.ts';
import { webhookRoutes, type WebhookDeps } from './routes/webhooks/index.ts';
import { salesforceRoutes, type SalesforceRouteDeps } from './routes/webhooks/salesforce/route.ts';

export type WebDeps = {
  service: ProvisioningService;
  kpis: KpiService;
  /** Programs that may call /api/v1, with their token hashes. */
  apiCallers: ApiCallers;
  /** The API's Idempotency-Key records and each caller's budget. */
  idempotency: IdempotentRequests;
  rateLimit: CallerRateLimit;
  controlRoom: ControlRoom;
  statusLinks: StatusLinks;
  feed: EventFeed;
  sessions: SessionSettings;
  signIn: SlackSignIn | undefined;
  oneTimeLinks: OneTimeTokens;
  identify(session: Session): Promise<Identity>;
  slackThread(jobId: string): Promise<string | undefined>;
  /** The step queue as Bull Board shows it (/admin/queues), read-only or not. */
  stepQueues(readOnly: boolean): BaseAdapter[];
  view(jobId: string): Promise<JobView | null>;
  /** Set in configuration (PUBLIC_URL); otherwise the address the request came to. */
  publicUrl: string | undefined;
  /** Bolt's receiver and its signing secret, in Slack's HTTP mode. */
  slack: { handle: (req: IncomingMessage, res: ServerResponse) => void; signingSecret: string } | undefined;
  /** Billing providers' webhooks (POST /webhooks/stripe, /webhooks/bunny). */
  webhooks?: WebhookDeps;
  /** Salesforce's Outbound Messages: who may send them, the field map, and the service that takes the deals. */
  salesforce: Pick<SalesforceRouteDeps, 'endpoint' | 'fieldMap' | 'receive'>;
  onError(err: unknown): void;
};

/** Forms are small; anything bigger is not one of ours. */
const FORM_LIMIT = 64 * 1024;

export async function registerWeb(server: FastifyInstance, deps: WebDeps): Promise<void> {
  const publicOrigin = (request: FastifyRequest) => deps.publicUrl ?? `${request.protocol}://${request.host}`;
  if (deps.slack) {
    const refused = (reason: string) => server.log.warn({ reason }, 'refused a signed Slack request of a shape Slack does not send');
    await server.register(slackRoutes, { ...deps.slack, onRefused: refused });
  }
  if (deps.webhooks) await server.register(webhookRoutes, deps.webhooks);
  await server.register(salesforceRoutes, {
    ...deps.salesforce,
    callers: deps.apiCallers,
    onError: deps.onError,
    onRefused: (reason) => server.log.warn({ reason }, 'refused a Salesforce outbound message'),
  });
  await server.register(apiV1Routes, {
    prefix: '/api/v1',
    callers: deps.apiCallers,
    service: deps.service,
    kpis: deps.kpis,
    idempotency: deps.idempotency,
    rateLimit: deps.rateLimit,
    origin: publicOrigin,
    onError: deps.onError,
  });
  const signedIn = signedInCheck({ sessions: deps.sessions, identify: deps.identify });
  await server.register(async (pages) => {
    await pages.register(fastifyCookie);
    await pages.register(fastifyFormbody, { bodyLimit: FORM_LIMIT });
    pages.addHook('onSend', async (_request, reply, payload) => {
      // No page of ours may be framed by another site (clickjacking), and none loads anything from elsewhere.
      reply.header('x-frame-options', 'DENY');
      reply.header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
      );
      reply.header('x-content-type-options', 'nosniff');
      return payload;
    });
    await pages.register(assetRoutes);
    await pages.register(authRoutes, {
      sessions: deps.sessions,
      signIn: deps.signIn,
      oneTimeLinks: deps.oneTimeLinks,
      publicOrigin,
      onError: deps.onError,
    });
    await pages.register(adminRoutes, {
      service: deps.service,
      controlRoom: deps.controlRoom,
      sessions: deps.sessions,
      feed: deps.feed,
      signedIn,
      slackThread: deps.slackThread,
      publicOrigin,
    });
    await pages.register(adminTenantRoutes, { service: deps.service, controlRoom: deps.controlRoom, sessions: deps.sessions, signedIn });
    await pages.register(queueRoutes, { signedIn, queues: deps.stepQueues });
    await pages.register(kpiRoutes, { kpis: deps.kpis, signedIn });
    await pages.register(statusRoutes, { statusLinks: deps.statusLinks, feed: deps.feed, view: deps.view, onError: deps.onError });
    pages.get('/', async (_request, reply) => reply.redirect('/admin', 302));
  });
}
