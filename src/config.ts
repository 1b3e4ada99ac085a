/**
 * The only reader of environment variables. Everything has a local default
 * (the emulator profile), so the demo and the tests need none; in the
 * production profile secrets must be set and a missing one is named.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const LOCAL_WEBHOOK_SECRET = 'local-only-webhook-signing-secret';

const EnvSchema = z.object({
  PROVISIONER_PROFILE: z.enum(['local', 'production']).default('local'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  MONGODB_URI: z.string().default('mongodb://127.0.0.1:27017/'),
  MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]+$/).default('provisioner'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('prov'),
  BASE_DOMAIN: z.string().default('tenants.example.com'),
  SECRET_PREFIX: z.string().default('tenants'),
  SHARED_DATABASE: z.string().default('tenants_shared'),
  MANIFESTS_DIR: z.string().default('manifests'),
  SEED_MANIFESTS_DIR: z.string().default('seed-manifests'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(50),
  WEBHOOK_SIGNING_SECRET: z.string().min(16).optional(),
  PROVISIONER_OPERATOR: z.string().min(1).optional(),
  SLACK_MODE: z.enum(['off', 'socket', 'http']).default('off'),
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', { error: 'must be a bot token (xoxb-…)' }).optional(),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', { error: 'must be an app-level token (xapp-…)' }).optional(),
  SLACK_API_URL: z.url().optional(),
  SLACK_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SLACK_ONBOARDING_CHANNEL: z.string().min(1).optional(),
  SLACK_APPROVERS: z.string().default(''),
  SLACK_APPROVER_GROUP: z.string().optional(),
  SLACK_ALLOW_SELF_APPROVAL: z.enum(['true', 'false']).default('false'),
  SLACK_UPDATES_PER_SECOND: z.coerce.number().positive().max(50).default(1),
  SLACK_POSTS_PER_SECOND: z.coerce.number().positive().max(50).default(1),
  USER: z.string().min(1).optional(),
});

export type Config = {
  profile: 'local' | 'production';
  redisUrl: string;
  mongoUri: string;
  mongoDb: string;
  queuePrefix: string;
  tenant: { baseDomain: string; secretPrefix: string; sharedDatabaseName: string };
  manifestsDir: string;
  seedDir: string;
  workerConcurrency: number;
  webhookSigningSecret: string;
  /** Who a CLI user is in the audit trail unless they say otherwise. */
  operator: string;
  slack: SlackConfig | null;
};

export type SlackConfig = {
  mode: 'socket' | 'http';
  botToken: string;
  signingSecret: string | undefined;
  appToken: string | undefined;
  /** Only for pointing the client at a loopback fake in tests. */
  apiUrl: string | undefined;
  port: number;
  channel: string;
  approvers: { userIds: string[]; groupId: string | undefined };
  allowSelfApproval: boolean;
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
  const webhookSigningSecret = e.WEBHOOK_SIGNING_SECRET ?? (e.PROVISIONER_PROFILE === 'local' ? LOCAL_WEBHOOK_SECRET : undefined);
  if (webhookSigningSecret === undefined) {
    throw new ConfigError('WEBHOOK_SIGNING_SECRET is required in the production profile (at least 16 characters)');
  }
  return {
    profile: e.PROVISIONER_PROFILE,
    redisUrl: e.REDIS_URL,
    mongoUri: e.MONGODB_URI,
    mongoDb: e.MONGODB_DB,
    queuePrefix: e.QUEUE_PREFIX,
    tenant: { baseDomain: e.BASE_DOMAIN, secretPrefix: e.SECRET_PREFIX, sharedDatabaseName: e.SHARED_DATABASE },
    manifestsDir: resolve(e.MANIFESTS_DIR),
    seedDir: resolve(e.SEED_MANIFESTS_DIR),
    workerConcurrency: e.WORKER_CONCURRENCY,
    webhookSigningSecret,
    operator: e.PROVISIONER_OPERATOR ?? e.USER ?? 'operator',
    slack: slackConfig(e),
  };
}

function required(value: string | undefined, name: string, why: string): string {
  if (value === undefined || value === '') throw new ConfigError(`${name} is required ${why}`);
  return value;
}

function slackConfig(e: z.output<typeof EnvSchema>): SlackConfig | null {
  if (e.SLACK_MODE === 'off') return null;
  const why = `when SLACK_MODE=${e.SLACK_MODE}`;
  const userIds = e.SLACK_APPROVERS.split(',').map((s) => s.trim()).filter(Boolean);
  if (userIds.length === 0 && !e.SLACK_APPROVER_GROUP) {
    throw new ConfigError(`SLACK_APPROVERS (Slack user ids, comma-separated) or SLACK_APPROVER_GROUP (a user group id) is required ${why}`);
  }
  return {
    mode: e.SLACK_MODE,
    botToken: required(e.SLACK_BOT_TOKEN, 'SLACK_BOT_TOKEN', why),
    signingSecret: e.SLACK_MODE === 'http' ? required(e.SLACK_SIGNING_SECRET, 'SLACK_SIGNING_SECRET', why) : e.SLACK_SIGNING_SECRET,
    appToken: e.SLACK_MODE === 'socket' ? required(e.SLACK_APP_TOKEN, 'SLACK_APP_TOKEN', why) : undefined,
    apiUrl: e.SLACK_API_URL,
    port: e.SLACK_PORT,
    channel: required(e.SLACK_ONBOARDING_CHANNEL, 'SLACK_ONBOARDING_CHANNEL', `(the #onboarding channel id) ${why}`),
    approvers: { userIds, groupId: e.SLACK_APPROVER_GROUP },
    allowSelfApproval: e.SLACK_ALLOW_SELF_APPROVAL === 'true',
    updatesPerSecond: e.SLACK_UPDATES_PER_SECOND,
    postsPerSecond: e.SLACK_POSTS_PER_SECOND,
  };
}
