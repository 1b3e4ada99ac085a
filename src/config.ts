/**
 * The only reader of environment variables. Everything has a local default
 * (the emulator profile), so the demo and the tests need none; in the
 * production profile secrets must be set and a missing one is named.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseApiCallers, type ApiCallers } from './domain/api-callers.ts';
import { parseOrgIds, parseSecretHashes, type SalesforceEndpoint } from './domain/salesforce-endpoint.ts';
import { isRole, ROLES, type Role } from './domain/policy.ts';
import type { Integration, Placement } from './ports/step-services.ts';

const LOCAL_WEBHOOK_SECRET = 'local-only-webhook-signing-secret';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'] as const;

const EnvSchema = z.object({
  PROVISIONER_PROFILE: z.enum(['local', 'production']).default('local'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  MONGODB_URI: z.string().default('mongodb://127.0.0.1:27017/'),
  MONGODB_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('provisioner'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('prov'),
  BASE_DOMAIN: z.string().default('tenants.example.com'),
  SECRET_PREFIX: z.string().default('tenants'),
  SHARED_DATABASE: z.string().default('tenants_shared'),
  MANIFESTS_DIR: z.string().default('manifests'),
  SEED_MANIFESTS_DIR: z.string().default('seed-manifests'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(50),
  RECORDER_GATHER_MS: z.coerce.number().int().min(0).max(5000).default(1000),
  WEBHOOK_SIGNING_SECRET: z.string().min(16).optional(),
  PROVISIONER_OPERATOR: z.string().min(1).optional(),
  /** CLI operators and their roles: "dana:admin,sam.approver:approver,jane.ae:requester" (roles joined with "+"). */
  PROVISIONER_OPERATORS: z.string().optional(),
  SLACK_MODE: z.enum(['off', 'socket', 'http']).default('off'),
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', { error: 'must be a bot token (xoxb-…)' }).optional(),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', { error: 'must be an app-level token (xapp-…)' }).optional(),
  SLACK_API_URL: z.url().optional(),
  SLACK_PORT: z.string().optional(),
  SLACK_ONBOARDING_CHANNEL: z.string().min(1).optional(),
  SLACK_APPROVERS: z.string().default(''),
  SLACK_APPROVER_GROUP: z.string().optional(),
  SLACK_ALLOW_SELF_APPROVAL: z.enum(['true', 'false']).optional(),
  ALLOW_SELF_APPROVAL: z.enum(['true', 'false']).optional(),
  SLACK_ADMINS: z.string().default(''),
  // The web control room (admin panel, customer status pages).
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be the http(s) address people reach this server at, e.g. https://provisioner.example.com' })
    .optional(),
  WEB_SECRET: z.string().min(32, { error: 'must be at least 32 characters (it signs sessions and status links)' }).optional(),
  SLACK_CLIENT_ID: z.string().min(1).optional(),
  SLACK_CLIENT_SECRET: z.string().min(1).optional(),
  SLACK_OIDC_AUTHORIZE_URL: z.url().default('https://slack.com/openid/connect/authorize'),
  SLACK_TEAM_ID: z.string().min(1).optional(),
  STATUS_PAGE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** Programs calling the HTTP API and their token hashes: "product=sha256:<hex>|sha256:<hex>,salesforce=sha256:<hex>". */
  API_CALLERS: z.string().default(''),
  /** Salesforce organizations whose Outbound Messages are taken (15- or 18-character ids, comma-separated). */
  SALESFORCE_ORG_IDS: z.string().default(''),
  /** SHA-256 hashes of the outbound-message endpoint's secret path segment: "sha256:<hex>" (two joined by "|" while rotating). */
  SALESFORCE_ENDPOINT_SECRET_HASHES: z.string().default(''),
  /** Requests each API caller may make per minute; past it the API answers 429 with Retry-After. */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
  SLACK_UPDATES_PER_SECOND: z.coerce.number().positive().max(50).default(1),
  SLACK_POSTS_PER_SECOND: z.coerce.number().positive().max(50).default(1),
  USER: z.string().min(1).optional(),
  // Billing webhooks (POST /webhooks/stripe, /webhooks/bunny).
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_', { error: "must be the endpoint's signing secret (whsec_…)" }).optional(),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  BUNNY_WEBHOOK_SIGNING_TOKEN: z.string().min(8).optional(),
  /** Billing sources whose events about an unknown tenant provision it: "stripe,bunny"; default none (reported in #onboarding). */
  BILLING_PROVISION_UNKNOWN_TENANTS: z.string().default(''),
  /** How long after invoice.payment_failed a tenant is suspended unless paid meanwhile. */
  PAYMENT_GRACE_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 90)
    .default(72),
  /** When the nightly drift check runs (cron, UTC); "off" disables it. */
  DRIFT_CHECK_CRON: z
    .string()
    .regex(/^(off|(\S+\s+){4}\S+)$/, { error: 'must be a cron pattern of five fields (e.g. "0 3 * * *") or off' })
    .default('0 3 * * *'),
  // Integrations. Local defaults point at the emulators `npm run demo` and the tests start.
  TENANT_MONGODB_URI: z.string().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  AWS_ENDPOINT_URL: z.url().optional(),
  ROUTE53_HOSTED_ZONE_ID: z
    .string()
    .regex(/^[A-Z0-9]+$/, { error: 'a hosted zone id looks like Z0123456789ABCDEFGHIJ (without /hostedzone/)' })
    .optional(),
  DNS_RECORD_TARGET: z.string().optional(),
  DNS_RECORD_TTL: z.coerce.number().int().min(30).max(86400).default(300),
  /** Starts every tenant bucket's name: S3 names are global, so it should say whose they are (e.g. acme-prod-tenants). */
  TENANT_BUCKET_PREFIX: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$/, {
      error: 'use 1–20 lowercase letters, digits and hyphens, starting and ending with a letter or digit',
    })
    .refine((prefix) => !prefix.startsWith('xn--') && !prefix.startsWith('sthree-'), { error: 'S3 reserves names starting with xn-- and sthree-' })
    .optional(),
  SECRETS_RECOVERY_WINDOW_DAYS: z.coerce.number().int().min(7).max(30).default(7),
  /** Days between an approved decommissioning and anything being removed (fractions allowed; 0: none). */
  DECOMMISSION_GRACE_DAYS: z.coerce.number().min(0).max(90).default(14),
  /** Hours between reminders in the job's thread while the grace period runs. */
  DECOMMISSION_REMINDER_HOURS: z.coerce.number().positive().max(720).default(24),
  /** Days a decommissioned tenant's slug stays reserved (links, emails and bookmarks still name it). */
  SLUG_RESERVED_DAYS: z.coerce.number().min(0).max(3650).default(90),
  /** Where tenant exports (tar.gz of JSON lines per collection) are written before a decommissioning removes anything. */
  EXPORTS_DIR: z.string().min(1).default('exports'),
  OKTA_ORG_URL: z.url().optional(),
  OKTA_API_TOKEN: z.string().min(1).optional(),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_/, { error: 'must be a Stripe secret or restricted key (sk_… or rk_…)' })
    .optional(),
  STRIPE_API_URL: z.url().optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, { error: 'must look like smtp://user:pass@host:587 or smtps://…' })
    .optional(),
  MAIL_FROM: z.string().min(3).optional(),
  // Operations: logs, metrics and traces.
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
  OTEL_SERVICE_NAME: z.string().min(1).default('tenant-provisioner'),
  OTEL_TRACES_EXPORTER: z
    .string()
    .regex(/^\s*(otlp|console|zipkin|none)(\s*,\s*(otlp|console|zipkin|none))*\s*$/, {
      error: 'must be otlp, console, zipkin or none (comma-separated)',
    })
    .optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  // Webhook endpoints: every <NAME>_WEBHOOK_URL (see webhookEndpoints below).
});

export type BillingConfig = {
  /** Undefined: POST /webhooks/stripe answers 503 (production without STRIPE_WEBHOOK_SECRET). */
  stripeWebhookSecret: string | undefined;
  stripeToleranceSeconds: number;
  bunnySigningToken: string | undefined;
  provisionUnknownFrom: ReadonlySet<'stripe' | 'bunny'>;
  paymentGraceMs: number;
  /** Cron pattern (UTC) of the nightly drift check, or undefined when off. */
  driftCheckCron: string | undefined;
};

export type Config = {
  profile: 'local' | 'production';
  redisUrl: string;
  mongoUri: string;
  /** The local profile without REDIS_URL or MONGODB_URI: the CLI starts (or reuses) local servers for the commands that need them. */
  startsLocalServers: boolean;
  mongoDb: string;
  queuePrefix: string;
  /** `pipeline` holds the values step configs may use as ${settings.…} (endpoints, the DNS target). */
  tenant: {
    baseDomain: string;
    secretPrefix: string;
    sharedDatabaseName: string;
    pipeline: Record<string, string | number>;
    pipelineEnv: Readonly<Record<string, string>>;
  };
  manifestsDir: string;
  seedDir: string;
  workerConcurrency: number;
  /** After a small batch, how long the recorder lets events gather before reading again (see StreamConsumer). */
  recorderGatherMs: number;
  webhookSigningSecret: string;
  /** Who a CLI user is in the audit trail unless they say otherwise. */
  operator: string;
  /**
   * Who may act from the CLI, by name, with their roles. The CLI trusts the
   * machine: whoever runs it acts as one of these named, audited operators.
   * Unset, the machine's user (\`operator\`) is the only one, as admin.
   */
  operators: ReadonlyMap<string, ReadonlySet<Role>>;
  slack: SlackConfig | null;
  integrations: IntegrationsConfig;
  /**
   * Named webhook endpoints (cs_platform, slack_notice, feature_flags). Steps name them and the
   * URL is looked up when they run, so a URL carrying a token (a Slack incoming webhook) is
   * never copied into a job definition or the store.
   */
  webhookEndpoints: Readonly<Record<string, string>>;
  observability: ObservabilityConfig;
  /** The authorisation policy's settings, the same for every door. */
  policy: { allowSelfApproval: boolean };
  web: WebConfig;
  /**
   * Programs that call the HTTP API, by name, with the SHA-256 hashes of their
   * bearer tokens (two during a rotation). `provisioner api-token create` makes tokens.
   */
  apiCallers: ApiCallers;
  /** Billing webhooks: their secrets, unknown tenants, the grace period after a failed payment. */
  billing: BillingConfig;
  /** Who may post Salesforce Outbound Messages; null when no organization is configured (every message is refused). */
  salesforce: SalesforceEndpoint | null;
  /** Requests each API caller may make per minute. */
  apiRateLimitPerMinute: number;
};

export type WebConfig = {
  /** Where people reach the server (links in Slack, status pages); undefined: the address it listens on. */
  publicUrl: string | undefined;
  /** Signs session cookies and customer status links; required (in production) only to serve the web pages. */
  secret: string | undefined;
  /** Sign in with Slack; null when the app has no OAuth client configured (then only one-time links sign in). */
  slackSignIn: { clientId: string; clientSecret: string; authorizeUrl: string; teamId: string | undefined } | null;
  /** Slack users who are admins (everything approvers may do, and more later). */
  admins: string[];
  /** How many days after going live a customer status link keeps working. */
  statusPageDays: number;
};

const LOCAL_WEB_SECRET = 'local-only-web-secret-do-not-use-in-production';

/** Logs, the HTTP server (health and metrics) and traces. */
export type ObservabilityConfig = {
  log: { level: (typeof LOG_LEVELS)[number]; format: 'json' | 'pretty' };
  /** The one HTTP server of `provisioner serve`. */
  http: { host: string; port: number };
  /** The metrics (and health) server of `provisioner worker`; 0 turns it off. */
  metricsPort: number;
  /**
   * Null when tracing is off (the default). When on, the OpenTelemetry SDK reads the
   * exporter's own standard OTEL_* variables (endpoint, protocol, headers) itself.
   */
  tracing: { serviceName: string } | null;
};

export type IntegrationsConfig = {
  /** Undefined: tenant data lives on the same server as the job store. */
  tenantMongoUri: string | undefined;
  aws: { region: string; endpoint: string | undefined; credentials: { accessKeyId: string; secretAccessKey: string } | undefined };
  /** Undefined in the local profile: the hosted zone for BASE_DOMAIN is found or created in the emulator. */
  hostedZoneId: string | undefined;
  secretsRecoveryWindowDays: number;
  okta: { orgUrl: string; token: string };
  stripe: { secretKey: string; apiUrl: string | undefined };
  mail: { smtpUrl: string; from: string };
  /** Per integration, the variables the production profile needs but were not set. */
  missing: Readonly<Record<Integration, readonly string[]>>;
};

export type SlackConfig = {
  mode: 'socket' | 'http';
  botToken: string;
  signingSecret: string | undefined;
  appToken: string | undefined;
  /** Only for pointing the client at a loopback fake in tests. */
  apiUrl: string | undefined;
  channel: string;
  approvers: { userIds: string[]; groupId: string | undefined };
  /** Global budgets that keep the app under Slack's rate limits however many jobs run. */
  updatesPerSecond: number;
  postsPerSecond: number;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.SLACK_PORT !== undefined) {
    throw new ConfigError('SLACK_PORT is no longer used: Slack requests are served by the one HTTP server on HTTP_PORT, at /slack/events');
  }
  const webhookSigningSecret = e.WEBHOOK_SIGNING_SECRET ?? (e.PROVISIONER_PROFILE === 'local' ? LOCAL_WEBHOOK_SECRET : undefined);
  if (webhookSigningSecret === undefined) {
    throw new ConfigError('WEBHOOK_SIGNING_SECRET is required in the production profile (at least 16 characters)');
  }
  return {
    profile: e.PROVISIONER_PROFILE,
    redisUrl: e.REDIS_URL,
    mongoUri: e.MONGODB_URI,
    startsLocalServers: e.PROVISIONER_PROFILE === 'local' && (!env['REDIS_URL'] || !env['MONGODB_URI']),
    mongoDb: e.MONGODB_DB,
    queuePrefix: e.QUEUE_PREFIX,
    tenant: {
      baseDomain: e.BASE_DOMAIN,
      secretPrefix: e.SECRET_PREFIX,
      sharedDatabaseName: e.SHARED_DATABASE,
      pipeline: pipelineSettings(e),
      pipelineEnv: PIPELINE_SETTING_ENV,
    },
    manifestsDir: resolve(e.MANIFESTS_DIR),
    seedDir: resolve(e.SEED_MANIFESTS_DIR),
    workerConcurrency: e.WORKER_CONCURRENCY,
    recorderGatherMs: e.RECORDER_GATHER_MS,
    webhookSigningSecret,
    operator: e.PROVISIONER_OPERATOR ?? e.USER ?? 'operator',
    operators: operatorsOf(e.PROVISIONER_OPERATORS, e.PROVISIONER_OPERATOR ?? e.USER ?? 'operator'),
    slack: slackConfig(e),
    integrations: integrationsConfig(e),
    webhookEndpoints: webhookEndpoints(e, env),
    observability: observabilityConfig(e),
    policy: { allowSelfApproval: (e.ALLOW_SELF_APPROVAL ?? e.SLACK_ALLOW_SELF_APPROVAL) === 'true' },
    web: webConfig(e),
    apiCallers: apiCallersOf(e.API_CALLERS),
    billing: billingConfig(e),
    salesforce: salesforceOf(e),
    apiRateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
  };
}

/** The local profile signs the emulators' webhooks with these; production must set its own. */
export const LOCAL_STRIPE_WEBHOOK_SECRET = 'whsec_local_emulator_endpoint_secret';
export const LOCAL_BUNNY_SIGNING_TOKEN = 'local-bunny-signing-token';

function billingConfig(e: Env): BillingConfig {
  const local = e.PROVISIONER_PROFILE === 'local';
  const sources = e.BILLING_PROVISION_UNKNOWN_TENANTS.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const provisionUnknownFrom = new Set<'stripe' | 'bunny'>();
  for (const source of sources) {
    if (source !== 'stripe' && source !== 'bunny')
      throw new ConfigError(`BILLING_PROVISION_UNKNOWN_TENANTS: unknown billing source "${source}" (known: stripe, bunny)`);
    provisionUnknownFrom.add(source);
  }
  return {
    stripeWebhookSecret: e.STRIPE_WEBHOOK_SECRET ?? (local ? LOCAL_STRIPE_WEBHOOK_SECRET : undefined),
    stripeToleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    bunnySigningToken: e.BUNNY_WEBHOOK_SIGNING_TOKEN ?? (local ? LOCAL_BUNNY_SIGNING_TOKEN : undefined),
    provisionUnknownFrom,
    paymentGraceMs: e.PAYMENT_GRACE_HOURS * 3_600_000,
    driftCheckCron: e.DRIFT_CHECK_CRON === 'off' ? undefined : e.DRIFT_CHECK_CRON,
  };
}

function salesforceOf(e: Env): SalesforceEndpoint | null {
  const orgs = parseOrgIds(e.SALESFORCE_ORG_IDS);
  const secrets = parseSecretHashes(e.SALESFORCE_ENDPOINT_SECRET_HASHES);
  const problems = [
    ...(orgs.ok ? [] : orgs.problems.map((p) => `SALESFORCE_ORG_IDS: ${p}`)),
    ...(secrets.ok ? [] : secrets.problems.map((p) => `SALESFORCE_ENDPOINT_SECRET_HASHES: ${p}`)),
  ];
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  if (!orgs.ok || !secrets.ok || orgs.orgIds.length === 0) return null;
  return { orgIds: orgs.orgIds, secretHashes: secrets.hashes };
}

function apiCallersOf(text: string): ApiCallers {
  const parsed = parseApiCallers(text);
  if (!parsed.ok) throw new ConfigError(`API_CALLERS:\n${parsed.problems.map((p) => `  ${p}`).join('\n')}`);
  return parsed.callers;
}

function webConfig(e: Env): WebConfig {
  const secret = e.WEB_SECRET ?? (e.PROVISIONER_PROFILE === 'local' ? LOCAL_WEB_SECRET : undefined);
  const signIn =
    e.SLACK_CLIENT_ID && e.SLACK_CLIENT_SECRET
      ? { clientId: e.SLACK_CLIENT_ID, clientSecret: e.SLACK_CLIENT_SECRET, authorizeUrl: e.SLACK_OIDC_AUTHORIZE_URL, teamId: e.SLACK_TEAM_ID }
      : null;
  return {
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    secret,
    slackSignIn: signIn,
    admins: e.SLACK_ADMINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    statusPageDays: e.STATUS_PAGE_DAYS,
  };
}

/**
 * Production logs are JSON for the log pipeline at info; the local profile is
 * for people at a terminal (the demo, the CLI), so pretty, and quiet unless
 * something goes wrong.
 */
function observabilityConfig(e: Env): ObservabilityConfig {
  const production = e.PROVISIONER_PROFILE === 'production';
  return {
    log: { level: e.LOG_LEVEL ?? (production ? 'info' : 'warn'), format: e.LOG_FORMAT ?? (production ? 'json' : 'pretty') },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    metricsPort: e.METRICS_PORT,
    tracing: tracingOn(e) ? { serviceName: e.OTEL_SERVICE_NAME } : null,
  };
}

/** Traces are off unless an exporter or an OTLP endpoint is named (the OpenTelemetry convention for "on"). */
function tracingOn(e: Env): boolean {
  if (e.OTEL_SDK_DISABLED === 'true') return false;
  const exporters = (e.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim());
  if (exporters.includes('none')) return false;
  return e.OTEL_TRACES_EXPORTER !== undefined || e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
}

/**
 * Local-profile addresses used when nothing says otherwise. The emulators are
 * started on free ports by `npm run services start --emulators` (which the
 * provisioner command uses), the demo and the tests, and each passes their real
 * addresses in the environment; these are only the fallback.
 */
export const LOCAL_EMULATORS = {
  aws: 'http://127.0.0.1:5055',
  stripe: 'http://127.0.0.1:12111',
  okta: 'http://127.0.0.1:12112',
  smtp: 'smtp://127.0.0.1:12025',
  webhooks: 'http://127.0.0.1:12113',
} as const;

type Env = z.output<typeof EnvSchema>;

function integrationsConfig(e: Env): IntegrationsConfig {
  const local = e.PROVISIONER_PROFILE === 'local';
  const unset = (pairs: [string, string | undefined][]) => (local ? [] : pairs.filter(([, v]) => v === undefined).map(([name]) => name));
  return {
    tenantMongoUri: e.TENANT_MONGODB_URI,
    aws: {
      region: e.AWS_REGION,
      endpoint: e.AWS_ENDPOINT_URL ?? (local ? LOCAL_EMULATORS.aws : undefined),
      // Production leaves credentials to the SDK's default chain (role, SSO, env).
      credentials: local ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined,
    },
    hostedZoneId: e.ROUTE53_HOSTED_ZONE_ID,
    secretsRecoveryWindowDays: e.SECRETS_RECOVERY_WINDOW_DAYS,
    okta: { orgUrl: e.OKTA_ORG_URL ?? LOCAL_EMULATORS.okta, token: e.OKTA_API_TOKEN ?? 'local-okta-token' },
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY ?? 'sk_test_local_emulator',
      apiUrl: e.STRIPE_API_URL ?? (local ? LOCAL_EMULATORS.stripe : undefined),
    },
    mail: { smtpUrl: e.SMTP_URL ?? LOCAL_EMULATORS.smtp, from: e.MAIL_FROM ?? `Onboarding <onboarding@${e.BASE_DOMAIN}>` },
    missing: {
      'aws-route53': unset([
        ['ROUTE53_HOSTED_ZONE_ID', e.ROUTE53_HOSTED_ZONE_ID],
        ['DNS_RECORD_TARGET', e.DNS_RECORD_TARGET],
      ]),
      'aws-secrets': [],
      'aws-s3': unset([['TENANT_BUCKET_PREFIX', e.TENANT_BUCKET_PREFIX]]),
      'aws-acm': [],
      okta: unset([
        ['OKTA_ORG_URL', e.OKTA_ORG_URL],
        ['OKTA_API_TOKEN', e.OKTA_API_TOKEN],
      ]),
      stripe: unset([['STRIPE_SECRET_KEY', e.STRIPE_SECRET_KEY]]),
      smtp: unset([
        ['SMTP_URL', e.SMTP_URL],
        ['MAIL_FROM', e.MAIL_FROM],
      ]),
    },
  };
}

/** "dana:admin,sam:approver+requester" → name → roles; every problem is named. */
function operatorsOf(listed: string | undefined, machineUser: string): Map<string, ReadonlySet<Role>> {
  if (listed === undefined || listed.trim() === '') return new Map([[machineUser, new Set<Role>(['admin'])]]);
  const operators = new Map<string, ReadonlySet<Role>>();
  for (const entry of listed
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [name, roles] = entry.split(':').map((p) => p.trim());
    if (!name || !roles) throw new ConfigError(`PROVISIONER_OPERATORS: "${entry}" should look like name:role (roles: ${ROLES.join(', ')})`);
    const parsed = roles.split('+').map((r) => r.trim());
    const unknown = parsed.filter((r) => !isRole(r));
    if (unknown.length > 0)
      throw new ConfigError(`PROVISIONER_OPERATORS: unknown role "${unknown.join('", "')}" for ${name} (roles: ${ROLES.join(', ')})`);
    operators.set(name, new Set(parsed.filter(isRole)));
  }
  return operators;
}

/** Env variable behind each ${settings.…} value, so a missing one is named. */
export const PIPELINE_SETTING_ENV: Readonly<Record<string, string>> = {
  dnsRecordTarget: 'DNS_RECORD_TARGET',
  dnsRecordTtl: 'DNS_RECORD_TTL',
  decommissionGraceMs: 'DECOMMISSION_GRACE_DAYS',
  decommissionReminderMs: 'DECOMMISSION_REMINDER_HOURS',
  exportsDir: 'EXPORTS_DIR',
  slugReservedMs: 'SLUG_RESERVED_DAYS',
  bucketPrefix: 'TENANT_BUCKET_PREFIX',
};

/** The variable that configures a named webhook endpoint: cs_platform → CS_PLATFORM_WEBHOOK_URL. */
export function webhookEndpointEnv(name: string): string {
  return `${name.toUpperCase()}_WEBHOOK_URL`;
}

const ENDPOINT_VARIABLE = /^([A-Z][A-Z0-9_]*)_WEBHOOK_URL$/;

/** Every <NAME>_WEBHOOK_URL variable is endpoint <name>; the local profile adds emulator defaults for ours. */
function webhookEndpoints(e: Env, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  if (e.PROVISIONER_PROFILE === 'local') {
    out['cs_platform'] = `${LOCAL_EMULATORS.webhooks}/cs-platform`;
    out['slack_notice'] = `${LOCAL_EMULATORS.webhooks}/slack-notice`;
  }
  for (const [variable, value] of Object.entries(env)) {
    const name = ENDPOINT_VARIABLE.exec(variable)?.[1];
    if (name === undefined || value === undefined || value === '') continue;
    if (!z.url({ protocol: /^https?$/ }).safeParse(value).success) throw new ConfigError(`${variable} must be an http(s) URL`);
    out[name.toLowerCase()] = value;
  }
  return out;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function pipelineSettings(e: Env): Record<string, string | number> {
  const local = e.PROVISIONER_PROFILE === 'local';
  const values: Record<string, string | number | undefined> = {
    dnsRecordTarget: e.DNS_RECORD_TARGET ?? (local ? `edge.${e.BASE_DOMAIN}` : undefined),
    dnsRecordTtl: e.DNS_RECORD_TTL,
    decommissionGraceMs: Math.round(e.DECOMMISSION_GRACE_DAYS * DAY_MS),
    decommissionReminderMs: Math.max(1000, Math.round(e.DECOMMISSION_REMINDER_HOURS * HOUR_MS)),
    exportsDir: resolve(e.EXPORTS_DIR),
    slugReservedMs: Math.round(e.SLUG_RESERVED_DAYS * DAY_MS),
    bucketPrefix: e.TENANT_BUCKET_PREFIX ?? (local ? 'provisioner-local' : undefined),
  };
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * Refuses to start when the pipeline uses an integration whose variables are
 * not set, naming each missing variable and the step that needs it.
 */
export function requireIntegrations(config: Config, uses: ReadonlyMap<Integration, readonly string[]>): void {
  const problems: string[] = [];
  for (const [integration, stepIds] of uses) {
    for (const name of config.integrations.missing[integration]) {
      problems.push(`  ${name} is required: step ${stepIds.join(', ')} uses ${integration}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Missing configuration for the production profile:\n${problems.join('\n')}`);
}

/** Where this deployment puts things, as a dry-run preview names them: regions, zones and hosts, never a token. */
export function placementOf(config: Pick<Config, 'integrations' | 'tenant'>): Placement {
  const i = config.integrations;
  const domain = config.tenant.baseDomain;
  return {
    awsRegion: i.aws.region,
    hostedZone: i.hostedZoneId === undefined ? domain : `${i.hostedZoneId} (${domain})`,
    oktaOrg: new URL(i.okta.orgUrl).host,
    mailFrom: i.mail.from,
  };
}

/** The configuration with some variables replaced (the demo points the bot at its own emulators). */
export function loadConfigWith(overrides: Record<string, string>, env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfig({ ...env, ...overrides });
}

function required(value: string | undefined, name: string, why: string): string {
  if (value === undefined || value === '') throw new ConfigError(`${name} is required ${why}`);
  return value;
}

function slackConfig(e: z.output<typeof EnvSchema>): SlackConfig | null {
  if (e.SLACK_MODE === 'off') return null;
  const why = `when SLACK_MODE=${e.SLACK_MODE}`;
  const userIds = e.SLACK_APPROVERS.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (userIds.length === 0 && !e.SLACK_APPROVER_GROUP) {
    throw new ConfigError(`SLACK_APPROVERS (Slack user ids, comma-separated) or SLACK_APPROVER_GROUP (a user group id) is required ${why}`);
  }
  return {
    mode: e.SLACK_MODE,
    botToken: required(e.SLACK_BOT_TOKEN, 'SLACK_BOT_TOKEN', why),
    signingSecret: e.SLACK_MODE === 'http' ? required(e.SLACK_SIGNING_SECRET, 'SLACK_SIGNING_SECRET', why) : e.SLACK_SIGNING_SECRET,
    appToken: e.SLACK_MODE === 'socket' ? required(e.SLACK_APP_TOKEN, 'SLACK_APP_TOKEN', why) : undefined,
    apiUrl: e.SLACK_API_URL,
    channel: required(e.SLACK_ONBOARDING_CHANNEL, 'SLACK_ONBOARDING_CHANNEL', `(the #onboarding channel id) ${why}`),
    approvers: { userIds, groupId: e.SLACK_APPROVER_GROUP },
    updatesPerSecond: e.SLACK_UPDATES_PER_SECOND,
    postsPerSecond: e.SLACK_POSTS_PER_SECOND,
  };
}
