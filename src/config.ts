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
  };
}
