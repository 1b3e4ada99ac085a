/**
 * The composition root: the one place that builds real clients and plugs
 * them into the ports. The CLI, the tests and the benchmark start here.
 */
import { ProvisioningService } from './app/services.ts';
import { ConfigError, placementOf, requireIntegrations, type Config } from './config.ts';
import { connectIntegrations } from './adapters/integrations.ts';
import type { Integration } from './ports/step-services.ts';
import type { PipelineStep } from './domain/graph.ts';
import type { WorkerRole } from './domain/worker-roles.ts';
import { MongoJobStore } from './adapters/mongo-store.ts';
import { RedisOpportunityIndex } from './adapters/redis-opportunities.ts';
import type { OpportunityIndex } from './ports/opportunities.ts';
import { boundedCalls, guardedMongoClient } from './adapters/mongo-client.ts';
import { MongoTenantUsage } from './adapters/tenant-usage.ts';
import { RedisSandboxLedger } from './adapters/sandbox-ledger.ts';
import { Engine } from './engine/engine.ts';
import { reportLostConnection } from './engine/redis-outage.ts';
import { loadManifests, type Manifests } from './manifests/load.ts';
import type { JobNotifier } from './ports/notifier.ts';
import { stepTypes } from './steps/registry.ts';
import { LogLevel, WebClient, type FetchFunction } from '@slack/web-api';
import { Redis } from 'ioredis';
import type { SlackConfig } from './config.ts';
import { RateLimiter } from './adapters/slack/limiter.ts';
import { MessageRefs } from './adapters/slack/message-refs.ts';
import { meteredFetch } from './adapters/slack/metered-fetch.ts';
import { SlackNotifier } from './adapters/slack/notifier.ts';
import { slackSdkLogger } from './adapters/slack/sdk-logger.ts';
import type { SlackApp } from './slack/app.ts';
import { People } from './slack/people.ts';
import { createLogger, type Logger } from './adapters/logger.ts';
import { PrometheusMetrics } from './adapters/metrics.ts';
import { mongoProbe, redisProbe } from './adapters/health-probes.ts';
import { startTracing } from './adapters/tracing.ts';
import { sampledFigures } from './app/figures.ts';
import { HealthService } from './app/health.ts';
import { provisioningRollbacks } from './app/provisioning-rollbacks.ts';
import type { Web } from './compose-web.ts';
import { configuredBaseUrl } from './web-address.ts';
import { StatusLinks } from './app/status-links.ts';
import { MongoKpiStore } from './adapters/mongo-kpi-store.ts';
import { KpiFactsKeeper } from './app/kpi-facts.ts';
import { KpiService } from './app/kpis.ts';
import type { BillingService } from './app/billing.ts';
import { composeBilling, webhookDeps, type Billing } from './compose-billing.ts';
import { CrmIntakeService } from './app/crm-intake.ts';
import { MongoPendingIntakeStore } from './adapters/mongo-pending-intakes.ts';
import { SlackPendingIntakeNotices } from './adapters/slack/pending-intake-notices.ts';

export type App = {
  config: Config;
  slack: SlackApp | undefined;
  /** The one HTTP server with the control room, when composed with `serveWeb`. */
  web: Web | undefined;
  service: ProvisioningService;
  /** Billing events in (the webhooks' inbox) and their follow-ups. */
  billing: BillingService;
  billingStore: Billing['store'];
  /** The signed-to-live KPIs and the product's activation events. */
  kpis: KpiService;
  /** The facts the KPIs aggregate, in memory (kept current in the background by `serveWeb`). */
  kpiFacts: KpiFactsKeeper;
  /** Deals a CRM sends by itself (Salesforce outbound messages), and those that need a person. */
  crm: CrmIntakeService;
  engine: Engine;
  store: MongoJobStore;
  /** Which job each CRM opportunity went to (Redis), beside the store that decides it. */
  opportunities: OpportunityIndex;
  manifests: Manifests;
  ledger: RedisSandboxLedger;
  /** The process's structured log (stderr). */
  logger: Logger;
  /** This process's Prometheus metrics, for GET /metrics. */
  metrics: PrometheusMetrics;
  /** Whether Redis and the store answer, for GET /healthz. */
  health: HealthService;
  close(): Promise<void>;
};

export type ComposeOptions = {
  runWorkers: boolean;
  /** With runWorkers, which parts run in this process (default all); the billing follow-ups run with the steps. */
  roles?: readonly WorkerRole[];
  /** Serve the Slack app (commands, buttons) in this process; needs SLACK_MODE. */
  serveSlack?: boolean;
  /** Build the one HTTP server with the web control room (and Slack's HTTP mode); `app.web.listen()` starts it. */
  serveWeb?: boolean;
  notifier?: JobNotifier;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Errors of the machinery (engine, Slack); default: logged. Tests pass their own to collect them. */
  /** How often, and after how long, stored views left behind are rewritten (engine defaults: 5 s and 5 s). */
  reconcile?: { everyMs: number; afterMs: number };
  onError?: (err: unknown) => void;
  /** Default: one built from the configuration (JSON or pretty, on stderr). */
  logger?: Logger;
};

export async function compose(config: Config, opts: ComposeOptions): Promise<App> {
  const manifests = loadManifests({
    manifestsDir: config.manifestsDir,
    seedDir: config.seedDir,
    stepTypes,
    sampleTenantSettings: config.tenant,
    webhookEndpoints: new Set(Object.keys(config.webhookEndpoints)),
  });
  // A worker process without the steps role (a recorder, a notifier) never calls an integration, so it needs
  // none of their settings; every other process runs steps or shows what they will do (previews name regions,
  // zones and hosts), so it does.
  const callsIntegrations = !opts.runWorkers || (opts.roles?.includes('steps') ?? true);
  const uses = callsIntegrations ? integrationsUsed(manifests) : new Map<Integration, readonly string[]>();
  if (config.profile === 'production') {
    requireIntegrations(config, uses);
    refuseSimulatedSteps(manifests);
  }
  const logger = opts.logger ?? createLogger(config.observability.log);
  const onError = opts.onError ?? ((err: unknown) => logger.error({ err }, 'unexpected error'));
  const metrics = new PrometheusMetrics({ log: logger });
  const storeClient = guardedMongoClient(config.mongoUri, { name: 'store', log: logger });
  const mongo = storeClient.client;
  await mongo.connect();
  const integrations = await connectIntegrations({
    config,
    storeClient: mongo,
    seeds: manifests.seeds,
    uses: new Set(uses.keys()),
    log: logger,
  });
  // Every store call ends, in time, with an answer or a StoreUnavailableError its caller retries.
  const store = boundedCalls(new MongoJobStore(mongo.db(config.mongoDb)), { name: 'store' });
  await store.ensureIndexes();
  const kpiStore = boundedCalls(new MongoKpiStore(mongo.db(config.mongoDb)), { name: 'KPI store' });
  await kpiStore.ensureKpiIndexes();
  const kpiFacts = new KpiFactsKeeper({ jobs: store, kpis: kpiStore, onError });
  const kpis = new KpiService({ keeper: kpiFacts, store: kpiStore });
  const slackFetch = meteredFetch(globalThis.fetch, (method, status) => metrics.slackCalled(method, status));
  const slack = config.slack
    ? slackParts(config.slack, { redisUrl: config.redisUrl, prefix: config.queuePrefix, onError, logger, fetch: slackFetch })
    : undefined;
  const notifier = opts.notifier ?? slack?.notifier;
  const tracing = await startTracing(config.observability.tracing);
  // The decommissioning's teardown rolls back provisioning jobs through the engine being started here.
  let started: Engine | undefined;
  const rollbacks = provisioningRollbacks(() => {
    if (!started) throw new Error('the engine is not started yet');
    return started;
  });
  const engine = await Engine.start({
    redisUrl: config.redisUrl,
    prefix: config.queuePrefix,
    store,
    stepTypes,
    runWorkers: opts.runWorkers,
    ...(opts.roles ? { roles: opts.roles } : {}),
    concurrency: config.workerConcurrency,
    recorderGatherMs: config.recorderGatherMs,
    services: (redis, keys) => ({
      sandbox: new RedisSandboxLedger(redis, keys.sandbox()),
      webhookSigningSecret: config.webhookSigningSecret,
      webhookEndpoints: config.webhookEndpoints,
      fetch: globalThis.fetch,
      ...integrations.services,
      tenants: store,
      provisioningRollbacks: rollbacks,
    }),
    ...(notifier && opts.runWorkers ? { notifier } : {}),
    ...(opts.lockDurationMs ? { lockDurationMs: opts.lockDurationMs } : {}),
    ...(opts.stalledIntervalMs ? { stalledIntervalMs: opts.stalledIntervalMs } : {}),
    ...(opts.reconcile ? { reconcileEveryMs: opts.reconcile.everyMs, reconcileAfterMs: opts.reconcile.afterMs } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
    log: logger,
    metrics,
    ...(tracing.telemetry ? { telemetry: tracing.telemetry } : {}),
  });
  started = engine;
  metrics.sampleFrom(sampledFigures({ store, engine }));
  const redisHealth = redisProbe(config.redisUrl);
  const health = new HealthService({ redis: redisHealth.probe, store: mongoProbe(mongo) }, { log: logger });
  const secret = config.web.secret;
  const statusLinks = secret ? new StatusLinks(store, { secret, daysAfterLive: config.web.statusPageDays }) : undefined;
  let web: Web | undefined;
  const opportunities = new RedisOpportunityIndex(engine.redis, { prefix: `${config.queuePrefix}:opportunity` });
  const service = new ProvisioningService({
    engine,
    store,
    opportunities,
    manifests,
    settings: config.tenant,
    catalogue: stepTypes,
    preview: { planners: stepTypes, placement: placementOf(config) },
    policy: config.policy,
    usage: new MongoTenantUsage(integrations.services.tenantData),
    ...(statusLinks ? { statusPages: { links: statusLinks, baseUrl: () => web?.baseUrl() ?? configuredBaseUrl(config) } } : {}),
  });
  const ledger = new RedisSandboxLedger(engine.redis, engine.keys.sandbox());
  const billing = await composeBilling({
    config,
    db: mongo.db(config.mongoDb),
    manifests,
    runWorkers: opts.runWorkers && (opts.roles?.includes('steps') ?? true),
    provisioning: service,
    jobs: store,
    tenantData: integrations.services.tenantData,
    slack: slack && config.slack ? { client: slack.client, channel: config.slack.channel } : undefined,
    logger,
    onError,
  });
  const pendingIntakes = new MongoPendingIntakeStore(mongo.db(config.mongoDb));
  await pendingIntakes.ensurePendingIntakeIndexes();
  const crm = new CrmIntakeService({
    provisioning: service,
    store: pendingIntakes,
    audit: store,
    notices: slack && config.slack ? new SlackPendingIntakeNotices({ client: slack.client, channel: config.slack.channel }) : undefined,
    policy: config.policy,
    onError,
  });
  const slackApp =
    config.slack && slack && opts.serveSlack
      ? // Loaded only by a process that serves Slack: Bolt and its Express receiver are ~15 MB a worker never needs.
        (await import('./slack/app.ts')).createSlackApp(
          config.slack,
          {
            service,
            billing: billing.service,
            kpis,
            kpisPageUrl: () => `${web?.baseUrl() ?? configuredBaseUrl(config)}/admin/kpis`,
            manifests,
            people: new People(slack.client, { approvers: config.slack.approvers, admins: config.web.admins }),
            channel: config.slack.channel,
            progressUrl: (jobId) => slack.refs.link(jobId, 5000),
            crm,
            onError,
          },
          { fetch: slackFetch, logger: slackSdkLogger(logger, 'slack-bolt') },
        )
      : undefined;
  if (opts.serveWeb && !statusLinks)
    throw new ConfigError('WEB_SECRET is required to serve the web pages in the production profile (at least 32 random characters)');
  web =
    opts.serveWeb && statusLinks
      ? // Loaded only by a process that serves the web: Fastify, Bull Board and every page.
        await (await import('./compose-web.ts')).composeWeb({
          config,
          service,
          kpis,
          kpiFacts,
          manifests,
          crm,
          engine,
          store,
          db: mongo.db(config.mongoDb),
          statusLinks,
          http: { health, metrics, logger },
          slack: slack ? { client: slack.client, refs: slack.refs, app: slackApp } : undefined,
          webhooks: webhookDeps(config, manifests, billing.service, logger, onError),
          onError,
        })
      : undefined;
  return {
    config,
    slack: slackApp,
    web,
    service,
    billing: billing.service,
    billingStore: billing.store,
    kpis,
    kpiFacts,
    crm,
    engine,
    store,
    opportunities,
    manifests,
    ledger,
    logger,
    metrics,
    health,
    async close() {
      await web?.close();
      await slackApp?.stop();
      await billing.close();
      await engine.close();
      await slack?.notifier.close();
      await slack?.redis.quit();
      await redisHealth.close();
      await integrations.close();
      await storeClient.close();
      // Last: the spans of everything above are exported before the SDK stops.
      await tracing.close();
    },
  };
}

type SlackWiring = { redisUrl: string; prefix: string; onError: (err: unknown) => void; logger: Logger; fetch: FetchFunction };

/** The Slack client and the notifier that edits #onboarding, with their own Redis connection for message refs. */
function slackParts(config: SlackConfig, { redisUrl, prefix, onError, logger, fetch }: SlackWiring) {
  const client = new WebClient(config.botToken, {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    fetch,
    logger: slackSdkLogger(logger, 'slack-web-api'),
    logLevel: LogLevel.WARN,
  });
  // Commands wait for Redis through an outage (null), as the engine's do, rather than fail fast: the notifier runs
  // sequences (take a reply's lock, post to Slack, record the reply, release the lock) that a failure in the middle
  // would leave with the lock held for two minutes (the job's replies stall) or a reply posted but not recorded
  // (posted twice). Its batches come from the same Redis, so while Redis is away there is nothing to do anyway.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  reportLostConnection(redis, (err) => logger.warn({ err }, 'the Slack notifier lost its Redis connection; reconnecting'));
  const refs = new MessageRefs(redis, prefix);
  const notifier = new SlackNotifier({
    client,
    channel: config.channel,
    approvers: { userIds: config.approvers.userIds, ...(config.approvers.groupId ? { groupId: config.approvers.groupId } : {}) },
    refs,
    posts: new RateLimiter(config.postsPerSecond),
    updates: new RateLimiter(config.updatesPerSecond),
    onError,
  });
  return { client, redis, refs, notifier };
}

/** A simulated step does no real work: in production it would report tenants live that are not. */
function refuseSimulatedSteps(manifests: Manifests): void {
  const simulated = everyStep(manifests).filter(({ step }) => stepTypes.get(step.type)?.simulated === true);
  if (simulated.length === 0) return;
  const named = simulated.map(({ step, name }) => `step ${name} has type ${step.type}`).join(', ');
  throw new ConfigError(
    `The production profile refuses simulated steps: ${named}, a test seam that does no real work (for tests, benchmarks and trying graph changes in the local profile)`,
  );
}

/** Which outside systems the pipeline talks to, and through which steps (for naming missing settings). */
function integrationsUsed(manifests: Manifests): Map<Integration, string[]> {
  const uses = new Map<Integration, string[]>();
  for (const { step, name } of everyStep(manifests)) {
    for (const integration of stepTypes.get(step.type)?.uses ?? []) uses.set(integration, [...(uses.get(integration) ?? []), name]);
  }
  return uses;
}

/** The steps of the provisioning pipeline and of every lifecycle pipeline, named for people ("sso", "suspend sign_in"). */
function everyStep(manifests: Manifests): { step: PipelineStep; name: string }[] {
  const lifecycle = [...manifests.lifecycle].flatMap(([kind, pipeline]) => pipeline.steps.map((step) => ({ step, name: `${kind} ${step.id}` })));
  return [...manifests.pipeline.steps.map((step) => ({ step, name: step.id })), ...lifecycle];
}
