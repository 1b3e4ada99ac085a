/**
 * A platform engineer deploys the bot: the local profile needs nothing, the
 * production profile names every variable the pipeline's integrations lack.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { compose } from '../../src/compose.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { orgAllowed, secretMatches } from '../../src/domain/salesforce-endpoint.ts';
import { callerDisplayName, callersWithNewToken, callersWithoutToken, callerWithToken, tokenHash } from '../../src/domain/api-callers.ts';
import { ManifestError } from '../../src/manifests/load.ts';
import { serverUrl } from '../support/servers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dirs = { MANIFESTS_DIR: path.join(root, 'manifests'), SEED_MANIFESTS_DIR: path.join(root, 'seed-manifests') };
const PRODUCTION = {
  ...dirs,
  PROVISIONER_PROFILE: 'production',
  WEBHOOK_SIGNING_SECRET: 'a-production-signing-secret',
  MONGODB_URI: 'mongodb://127.0.0.1:9/',
};

/** What the pipeline's own settings and webhook endpoints need in production (not the integrations'). */
const PIPELINE_SETTINGS = {
  CS_PLATFORM_WEBHOOK_URL: 'https://cs.example/hook',
  SLACK_NOTICE_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x',
  DNS_RECORD_TARGET: 'edge.example.net',
  TENANT_BUCKET_PREFIX: 'acme-prod',
};

async function startupError(env: Record<string, string>): Promise<Error> {
  const error = await compose(loadConfig(env), { runWorkers: false }).then(
    () => new Error('started'),
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  return error;
}

describe('configuring the integrations', () => {
  it('the local profile points every integration at its emulator, with no variable set', () => {
    const config = loadConfig(dirs);
    expect(config.integrations.okta.orgUrl).toBe('http://127.0.0.1:12112');
    expect(config.integrations.stripe.apiUrl).toBe('http://127.0.0.1:12111');
    expect(config.integrations.aws.endpoint).toBe('http://127.0.0.1:5055');
    expect(config.tenant.pipeline['dnsRecordTarget']).toBe('edge.tenants.example.com');
  });

  it('production names each missing integration variable and the step that needs it, before connecting anywhere', async () => {
    const error = await startupError({ ...PRODUCTION, ...PIPELINE_SETTINGS });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message.split('\n').slice(1)).toEqual([
      '  ROUTE53_HOSTED_ZONE_ID is required: step dns, certificate uses aws-route53',
      // The lifecycle pipelines' steps need their integrations too, named with their kind.
      '  OKTA_ORG_URL is required: step sso, change_plan sso, reactivate sign_in, suspend sign_in uses okta',
      '  OKTA_API_TOKEN is required: step sso, change_plan sso, reactivate sign_in, suspend sign_in uses okta',
      '  STRIPE_SECRET_KEY is required: step billing, change_plan billing uses stripe',
      '  SMTP_URL is required: step welcome_email uses smtp',
      '  MAIL_FROM is required: step welcome_email uses smtp',
    ]);
  });

  it('a recorder process starts in production without any integration setting: it never calls one', async () => {
    const tag = randomBytes(3).toString('hex');
    const app = await compose(
      loadConfig({
        ...PRODUCTION,
        ...PIPELINE_SETTINGS,
        REDIS_URL: serverUrl('REDIS_URL'),
        MONGODB_URI: serverUrl('MONGODB_URI'),
        MONGODB_DB: `cfg_${tag}`,
        QUEUE_PREFIX: `cfg${tag}`,
        LOG_LEVEL: 'silent',
      }),
      { runWorkers: true, roles: ['recorder'] },
    );
    try {
      expect((await app.engine.eventStreamGroups()).map((g) => g.group)).toEqual(['recorder']);
    } finally {
      await app.close();
      const mongo = new MongoClient(serverUrl('MONGODB_URI'));
      await mongo.db(`cfg_${tag}`).dropDatabase();
      await mongo.close();
    }
    // The same settings for a process that runs steps are refused, naming what is missing.
    const error = await compose(loadConfig({ ...PRODUCTION, ...PIPELINE_SETTINGS }), { runWorkers: true, roles: ['steps'] }).then(
      () => new Error('started'),
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('STRIPE_SECRET_KEY is required');
  });

  it('a pipeline setting or webhook endpoint without its variable is named by the variable to set', async () => {
    const error = await startupError(PRODUCTION);
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.message).toContain('unknown reference ${settings.dnsRecordTarget}: set DNS_RECORD_TARGET');
    expect(error.message).toContain('unknown reference ${settings.bucketPrefix}: set TENANT_BUCKET_PREFIX');
    expect(error.message).toContain('webhook endpoint slack_notice is not configured: set SLACK_NOTICE_WEBHOOK_URL');
    expect(error.message).toContain('webhook endpoint cs_platform is not configured: set CS_PLATFORM_WEBHOOK_URL');
  });

  it('production refuses a pipeline with a simulated sandbox step, naming it, before connecting anywhere', async () => {
    const manifestsDir = mkdtempSync(path.join(tmpdir(), 'production-manifests-'));
    try {
      copyFileSync(path.join(dirs.MANIFESTS_DIR, 'plans.yaml'), path.join(manifestsDir, 'plans.yaml'));
      writeFileSync(
        path.join(manifestsDir, 'pipeline.yaml'),
        ['version: 1', 'steps:', '  - id: crm_sync', '    type: sandbox', '    config: { resource: "CRM record" }', ''].join('\n'),
      );
      const error = await startupError({ ...PRODUCTION, MANIFESTS_DIR: manifestsDir });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(
        'The production profile refuses simulated steps: step crm_sync has type sandbox, a test seam that does no real work (for tests, benchmarks and trying graph changes in the local profile)',
      );
    } finally {
      rmSync(manifestsDir, { recursive: true, force: true });
    }
  });

  it('a malformed Stripe key or recovery window is refused with the variable named', () => {
    expect(() => loadConfig({ ...dirs, STRIPE_SECRET_KEY: 'pk_live_123' })).toThrow(/STRIPE_SECRET_KEY: must be a Stripe secret or restricted key/);
    expect(() => loadConfig({ ...dirs, SECRETS_RECOVERY_WINDOW_DAYS: '3' })).toThrow(/SECRETS_RECOVERY_WINDOW_DAYS/);
  });

  it('any <NAME>_WEBHOOK_URL is a named endpoint; one that is not a URL is named', () => {
    const config = loadConfig({ ...dirs, BILLING_OPS_WEBHOOK_URL: 'https://ops.example/hooks/billing' });
    expect(config.webhookEndpoints).toMatchObject({
      billing_ops: 'https://ops.example/hooks/billing',
      cs_platform: 'http://127.0.0.1:12113/cs-platform',
    });
    expect(() => loadConfig({ ...dirs, CS_PLATFORM_WEBHOOK_URL: 'not a url' })).toThrow('CS_PLATFORM_WEBHOOK_URL must be an http(s) URL');
  });
});

describe('configuring logs, metrics and traces', () => {
  it('the local profile logs pretty and quiet; production logs JSON at info; LOG_LEVEL and LOG_FORMAT override both', () => {
    expect(loadConfig(dirs).observability.log).toEqual({ level: 'warn', format: 'pretty' });
    expect(loadConfig({ ...PRODUCTION }).observability.log).toEqual({ level: 'info', format: 'json' });
    expect(loadConfig({ ...dirs, LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }).observability.log).toEqual({ level: 'debug', format: 'json' });
    expect(() => loadConfig({ ...dirs, LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('the HTTP server and the worker metrics default to ports that do not clash with Slack; 0 turns worker metrics off', () => {
    const defaults = loadConfig(dirs).observability;
    expect(defaults.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(defaults.metricsPort).toBe(9464);
    expect(loadConfig({ ...dirs, METRICS_PORT: '0' }).observability.metricsPort).toBe(0);
    expect(() => loadConfig({ ...dirs, HTTP_PORT: '70000' })).toThrow(/HTTP_PORT/);
  });

  it('traces are off unless an exporter or an OTLP endpoint is set, and off again with "none" or OTEL_SDK_DISABLED', () => {
    expect(loadConfig(dirs).observability.tracing).toBeNull();
    expect(loadConfig({ ...dirs, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).observability.tracing).toEqual({
      serviceName: 'tenant-provisioner',
    });
    expect(loadConfig({ ...dirs, OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'prov-eu' }).observability.tracing).toEqual({
      serviceName: 'prov-eu',
    });
    expect(
      loadConfig({ ...dirs, OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).observability.tracing,
    ).toBeNull();
    expect(loadConfig({ ...dirs, OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }).observability.tracing).toBeNull();
    expect(() => loadConfig({ ...dirs, OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(/OTEL_TRACES_EXPORTER: must be otlp, console, zipkin or none/);
    expect(() => loadConfig({ ...dirs, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/);
  });
});

describe('configuring the programs that call the API', () => {
  const hash = (token: string) => `sha256:${tokenHash(token)}`;

  it('keeps only token hashes, two per caller during a rotation, and knows a caller by either token', () => {
    const config = loadConfig({ ...dirs, API_CALLERS: `product=${hash('old-token')}|${hash('new-token')}, salesforce=${hash('crm-token')}` });
    expect([...config.apiCallers.keys()]).toEqual(['product', 'salesforce']);
    expect(JSON.stringify([...config.apiCallers])).not.toContain('token');
    expect(callerWithToken('old-token', config.apiCallers)).toBe('product');
    expect(callerWithToken('new-token', config.apiCallers)).toBe('product');
    expect(callerWithToken('crm-token', config.apiCallers)).toBe('salesforce');
    expect(callerWithToken('crm-token ', config.apiCallers)).toBeUndefined();
    expect(loadConfig(dirs).apiCallers.size).toBe(0);
  });

  it('names each malformed entry: a plain token, a bad hash, three tokens, a caller named twice', () => {
    const refused = (value: string) => {
      try {
        loadConfig({ ...dirs, API_CALLERS: value });
      } catch (err) {
        return err instanceof ConfigError ? err.message : String(err);
      }
      return 'accepted';
    };
    expect(refused('product=my-secret-token')).toBe('API_CALLERS:\n  product: each token hash must be sha256: followed by 64 lowercase hex digits');
    expect(refused(`product=${hash('a')},Product=sha256:abc`)).toContain('entry 2 should look like name=sha256:<64 hex digits>');
    expect(refused(`product=${hash('a')}|${hash('b')}|${hash('c')}`)).toContain('product: at most 2 token hashes');
    expect(refused(`product=${hash('a')},product=${hash('b')}`)).toContain('product: named twice');
    // A refusal never repeats a secret someone pasted by mistake in full.
    expect(refused('product=my-secret-token-that-is-quite-long-indeed')).not.toContain('my-secret-token');
    expect(refused('my-secret-token-pasted-alone')).not.toContain('my-secret-token');
  });

  it('a rotation puts the new hash first and keeps the current one, dropping the one before', () => {
    const callers = loadConfig({ ...dirs, API_CALLERS: `product=${hash('current')}|${hash('older')}` }).apiCallers;
    expect(callersWithNewToken(callers, 'product', tokenHash('next'))).toBe(`product=${hash('next')}|${hash('current')}`);
    expect(callersWithNewToken(callers, 'salesforce', tokenHash('crm'))).toBe(
      `product=${hash('current')}|${hash('older')},salesforce=${hash('crm')}`,
    );
  });

  it('a revocation drops the token being replaced, or the one named, and a caller left without tokens', () => {
    const callers = loadConfig({ ...dirs, API_CALLERS: `product=${hash('new')}|${hash('old')},crm:admin=${hash('crm')}` }).apiCallers;
    expect(callersWithoutToken(callers, 'product')).toBe(`product=${hash('new')},crm:admin=${hash('crm')}`);
    expect(callersWithoutToken(callers, 'product', tokenHash('new'))).toBe(`product=${hash('old')},crm:admin=${hash('crm')}`);
    expect(callersWithoutToken(callers, 'crm')).toBe(`product=${hash('new')}|${hash('old')}`);
  });

  it('gives callers the requester role unless their roles are named, and refuses an unknown role', () => {
    const callers = loadConfig({ ...dirs, API_CALLERS: `product=${hash('p')},salesforce:requester+approver=${hash('s')}` }).apiCallers;
    expect([...(callers.get('product')?.roles ?? [])]).toEqual(['requester']);
    expect([...(callers.get('salesforce')?.roles ?? [])]).toEqual(['requester', 'approver']);
    // Written back as configured: a rotation keeps the roles.
    expect(callersWithNewToken(callers, 'salesforce', tokenHash('s2'))).toBe(
      `product=${hash('p')},salesforce:requester+approver=${hash('s2')}|${hash('s')}`,
    );
    expect(() => loadConfig({ ...dirs, API_CALLERS: `crm:boss=${hash('c')}` })).toThrow(
      'crm: unknown role "boss" (roles: admin, approver, requester, reporter)',
    );
    expect(() => loadConfig({ ...dirs, API_CALLERS: `crm:a:b=${hash('c')}` })).toThrow('entry 1 should look like name=sha256:');
  });

  it('gives each caller 120 requests a minute unless configured, and refuses a budget that is not a whole number of at least 1', () => {
    expect(loadConfig(dirs).apiRateLimitPerMinute).toBe(120);
    expect(loadConfig({ ...dirs, API_RATE_LIMIT_PER_MINUTE: '600' }).apiRateLimitPerMinute).toBe(600);
    for (const value of ['0', '-5', 'lots', '1.5']) {
      expect(() => loadConfig({ ...dirs, API_RATE_LIMIT_PER_MINUTE: value }), value).toThrow('API_RATE_LIMIT_PER_MINUTE');
    }
  });

  it('names callers in the audit and in Slack as people would write them', () => {
    expect(callerDisplayName('salesforce')).toBe('Salesforce');
    expect(callerDisplayName('crm')).toBe('CRM');
    expect(callerDisplayName('product-analytics')).toBe('Product Analytics');
  });
});

describe('configuring who may post Salesforce outbound messages', () => {
  const hash = (secret: string) => `sha256:${tokenHash(secret)}`;
  const refused = (env: Record<string, string>) => {
    try {
      loadConfig({ ...dirs, ...env });
    } catch (err) {
      return err instanceof ConfigError ? err.message : String(err);
    }
    return 'accepted';
  };

  it('keeps organizations in their 15-character form and the secret only as hashes; either secret of a rotation works', () => {
    const config = loadConfig({
      ...dirs,
      SALESFORCE_ORG_IDS: '00D5e000000KQ2eEAG, 00D300000000abc',
      SALESFORCE_ENDPOINT_SECRET_HASHES: `${hash('old-secret')}|${hash('new-secret')}`,
    });
    const endpoint = config.salesforce;
    if (!endpoint) throw new Error('not configured');
    expect(endpoint.orgIds).toEqual(['00D5e000000KQ2e', '00D300000000abc']);
    expect(JSON.stringify(endpoint)).not.toMatch(/old-secret|new-secret/);
    expect(orgAllowed('00D5e000000KQ2eEAG', endpoint)).toBe(true);
    expect(orgAllowed('00D5e000000KQ2e', endpoint)).toBe(true);
    expect(orgAllowed('00D300000000abcAAQ', endpoint)).toBe(true);
    // Salesforce ids are case-sensitive in their 15 characters.
    expect(orgAllowed('00D300000000ABCAAQ', endpoint)).toBe(false);
    expect(secretMatches('old-secret', endpoint)).toBe(true);
    expect(secretMatches('new-secret', endpoint)).toBe(true);
    expect(secretMatches('new-secret ', endpoint)).toBe(false);
    expect(loadConfig(dirs).salesforce).toBeNull();
  });

  it('names a malformed organization id or hash by its variable, never quoting a secret pasted instead of its hash', () => {
    expect(refused({ SALESFORCE_ORG_IDS: '00D5e000000KQ2eEAG,001000000000001' })).toBe(
      'SALESFORCE_ORG_IDS: entry 2 is not an organization id (15 or 18 letters and digits starting with 00D)',
    );
    const pasted = refused({ SALESFORCE_ORG_IDS: '00D5e000000KQ2e', SALESFORCE_ENDPOINT_SECRET_HASHES: 'the-endpoint-secret-itself' });
    expect(pasted).toBe('SALESFORCE_ENDPOINT_SECRET_HASHES: each hash must be sha256: followed by 64 lowercase hex digits');
    expect(refused({ SALESFORCE_ENDPOINT_SECRET_HASHES: [hash('a'), hash('b'), hash('c')].join('|') })).toContain('at most 2 hashes');
  });
});
