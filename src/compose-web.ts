/**
 * The web half of the composition root: the one HTTP server with health and
 * metrics, plus (for `provisioner serve`) the control room and Slack's HTTP
 * requests. Built from parts compose() already made.
 */
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { FastifyInstance } from 'fastify';
import type { WebClient } from '@slack/web-api';
import type { Db } from 'mongodb';
import { MongoIdempotencyStore } from './adapters/mongo-idempotency.ts';
import { RedisOneTimeTokens } from './adapters/one-time-tokens.ts';
import { RedisCallerRateLimit } from './adapters/redis-rate-limit.ts';
import { IdempotentRequests } from './app/idempotent-requests.ts';
import { SlackOpenIdSignIn } from './adapters/slack/sign-in.ts';
import type { MessageRefs } from './adapters/slack/message-refs.ts';
import { ControlRoom } from './app/control-room.ts';
import { startCatalog } from './app/job-catalog.ts';
import type { CrmIntakeService } from './app/crm-intake.ts';
import type { KpiFactsKeeper } from './app/kpi-facts.ts';
import type { KpiService } from './app/kpis.ts';
import type { ProvisioningService } from './app/services.ts';
import type { StatusLinks } from './app/status-links.ts';
import type { Config } from './config.ts';
import type { Identity } from './domain/policy.ts';
import type { Engine } from './engine/engine.ts';
import type { Manifests } from './manifests/load.ts';
import type { Session } from './http/auth/session.ts';
import { createHttpServer, listen, type HttpServerDeps } from './http/server.ts';
import { configuredBaseUrl } from './web-address.ts';
import type { WebhookDeps } from './http/routes/webhooks/index.ts';
import { registerWeb } from './http/web.ts';
import type { JobStore } from './ports/store.ts';
import type { SlackApp } from './slack/app.ts';
import { People } from './slack/people.ts';

export type Web = {
  server: FastifyInstance;
  /** Starts listening on HTTP_HOST:HTTP_PORT (or the given port); resolves with the base URL. */
  listen(port?: number): Promise<string>;
  /** Where people reach the server: PUBLIC_URL, or the address it listens on. */
  baseUrl(): string;
  /** A sign-in link for a configured operator, valid once, for an hour. */
  signInLink(operator: string): Promise<string>;
  close(): Promise<void>;
};

export type WebParts = {
  config: Config;
  service: ProvisioningService;
  kpis: KpiService;
  manifests: Manifests;
  /** Kept current from the event feed while the server runs, so the KPI page only aggregates. */
  kpiFacts: KpiFactsKeeper;
  crm: CrmIntakeService;
  engine: Engine;
  store: JobStore;
  /** The database the API keeps its Idempotency-Key records in. */
  db: Db;
  statusLinks: StatusLinks;
  http: HttpServerDeps;
  slack: { client: WebClient; refs: MessageRefs; app: SlackApp | undefined } | undefined;
  webhooks?: WebhookDeps;
  onError(err: unknown): void;
};

const SIGN_IN_LINK_MS = 3_600_000;
/** How often the serving process posts notices of deals needing a person that Slack did not take (or a crash kept from it). */
const OVERDUE_NOTICES_EVERY_MS = 60_000;

export async function composeWeb(parts: WebParts): Promise<Web> {
  const { config, service, engine, store } = parts;
  const secret = config.web.secret;
  if (secret === undefined)
    throw new Error('WEB_SECRET is required to serve the web pages in the production profile (at least 32 random characters)');
  const feed = engine.feed();
  const { catalog, stop } = await startCatalog({
    summaries: () => store.jobSummaries(),
    view: (id) => engine.view(id),
    feed,
    onError: parts.onError,
  });
  const keepingKpis = parts.kpiFacts.follow(feed);
  const people = parts.slack
    ? new People(parts.slack.client, { approvers: config.slack?.approvers ?? { userIds: [], groupId: undefined }, admins: config.web.admins })
    : undefined;
  const idempotencyStore = new MongoIdempotencyStore(parts.db);
  await idempotencyStore.ensureIndexes();
  const oneTimeLinks = new RedisOneTimeTokens(engine.redis, `${config.queuePrefix}:sign-in`);
  const identify = async (session: Session): Promise<Identity> => {
    if (session.via === 'slack' && people) return people.identify(session.id, session.name, 'web');
    const roles = session.via === 'operator' ? config.operators.get(session.id) : undefined;
    return { door: 'web', id: session.id, name: session.name, roles: new Set(roles ?? []) };
  };
  const permalinks = new Map<string, string>();
  const server = createHttpServer(parts.http);
  let base: string | undefined;
  await registerWeb(server, {
    service,
    kpis: parts.kpis,
    apiCallers: config.apiCallers,
    idempotency: new IdempotentRequests(idempotencyStore),
    rateLimit: new RedisCallerRateLimit(engine.redis, { prefix: `${config.queuePrefix}:api-rate`, perMinute: config.apiRateLimitPerMinute }),
    controlRoom: new ControlRoom({ provisioning: service, store, catalog }),
    statusLinks: parts.statusLinks,
    feed,
    sessions: { secret, secureCookies: (config.web.publicUrl ?? '').startsWith('https://') },
    signIn: config.web.slackSignIn ? new SlackOpenIdSignIn({ ...config.web.slackSignIn, apiUrl: config.slack?.apiUrl }) : undefined,
    oneTimeLinks,
    identify,
    stepQueues: (readOnly) => [stepQueueBoard(engine, readOnly)],
    slackThread: (jobId) => (parts.slack ? threadLink(parts.slack, jobId, permalinks) : Promise.resolve(undefined)),
    view: (jobId) => service.jobView(jobId),
    publicUrl: config.web.publicUrl,
    slack: parts.slack?.app?.http,
    salesforce: {
      endpoint: config.salesforce,
      fieldMap: parts.manifests.salesforce,
      receive: (source, deals) => parts.crm.receive(source, deals),
    },
    ...(parts.webhooks ? { webhooks: parts.webhooks } : {}),
    onError: parts.onError,
  });
  const overdueNotices = setInterval(() => void parts.crm.postOverdueNotices().catch(parts.onError), OVERDUE_NOTICES_EVERY_MS);
  overdueNotices.unref();
  return {
    server,
    async listen(port = config.observability.http.port) {
      const bound = await listen(server, { host: config.observability.http.host, port, variable: 'HTTP_PORT' });
      base = config.web.publicUrl ?? `http://127.0.0.1:${bound}`;
      return base;
    },
    baseUrl: () => base ?? configuredBaseUrl(config),
    async signInLink(operator) {
      if (!config.operators.has(operator)) throw new Error(`"${operator}" is not a configured operator (PROVISIONER_OPERATORS)`);
      const token = await oneTimeLinks.issue(operator, SIGN_IN_LINK_MS);
      return `${base ?? configuredBaseUrl(config)}/auth/one-time/${token}`;
    },
    async close() {
      clearInterval(overdueNotices);
      stop();
      await keepingKpis.stop();
      await server.close();
    },
  };
}

/** The engine's step queue on Bull Board, each step job linked to its provisioning job's page. */
function stepQueueBoard(engine: Engine, readOnly: boolean): BullMQAdapter {
  return new BullMQAdapter(engine.stepQueue, {
    readOnlyMode: readOnly,
    displayName: 'Step jobs',
    description:
      "One BullMQ job per queued step run (a step carried on by the worker that released it runs inside that step's job); the provisioning job it belongs to is in its data (jobId).",
    externalJobUrl: (job) => {
      const jobId: unknown = Reflect.get(Object(job.data), 'jobId');
      return typeof jobId === 'string' ? { displayText: 'Provisioning job', href: `/admin/jobs/${encodeURIComponent(jobId)}` } : { href: '/admin' };
    },
  });
}

/** The job's thread in #onboarding as Slack links it (chat.getPermalink), remembered once known. */
async function threadLink(slack: NonNullable<WebParts['slack']>, jobId: string, known: Map<string, string>): Promise<string | undefined> {
  const cached = known.get(jobId);
  if (cached) return cached;
  const ref = await slack.refs.get(jobId);
  if (!ref) return undefined;
  const answer = await slack.client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts }).catch(() => undefined);
  if (!answer?.permalink) return undefined;
  known.set(jobId, answer.permalink);
  return answer.permalink;
}
