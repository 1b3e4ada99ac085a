/**
 * The webhook step against a real HTTP server on loopback: the receiver
 * verifies our signature the way a CS platform would.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../../src/domain/signature.ts';
import type { DerivedTenant } from '../../src/domain/intake.ts';
import type { StepContext } from '../../src/steps/step.ts';
import { webhookStep } from '../../src/steps/webhook.ts';
import { resolveTemplates } from '../../src/domain/template.ts';
import { startWebhookSink, type WebhookSink } from '../../src/emulators/webhook-sink.ts';
import { realManifests } from '../slack/blocks/fixtures.ts';
import { sampleTenant, stepContext } from '../support/step-context.ts';

const SECRET = 'test-webhook-secret-0123456789';

type Received = { path: string; body: string; verified: boolean; idempotencyKey: string | undefined };

const tenant: DerivedTenant = {
  tenantId: 'tnt_acme',
  slug: 'acme',
  companyName: 'Acme Corp',
  planId: 'growth',
  databaseName: 'tenants_shared',
  isolation: 'shared',
  dnsName: 'acme.tenants.example.com',
  tenantUrl: 'https://acme.tenants.example.com',
  secretPath: 'tenants/acme',
  billingMetadata: {},
  features: {},
  seedVersion: '2026.11.0',
  approvalReasons: [],
};

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
  });
}

describe('the webhook step tells a CS platform about a new tenant', () => {
  let server: Server;
  let base: string;
  let received: Received[];
  let answer: number;

  beforeEach(async () => {
    received = [];
    answer = 200;
    server = createServer(async (req, res) => {
      const body = await read(req);
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      received.push({
        path: req.url ?? '',
        body,
        idempotencyKey: header('idempotency-key'),
        verified: verifySignature({
          secret: SECRET,
          timestamp: header(TIMESTAMP_HEADER),
          signature: header(SIGNATURE_HEADER),
          body,
          nowS: Math.floor(Date.now() / 1000),
        }),
      });
      res.writeHead(answer).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    base = `http://127.0.0.1:${address.port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function ctx(): StepContext<unknown> {
    return stepContext({ jobId: 'acme-123', stepId: 'cs_record', tenant, services: { webhookSigningSecret: SECRET } });
  }

  it('POSTs a signed event that the receiver can verify, with a stable idempotency key', async () => {
    const step = webhookStep.bind({ url: `${base}/hooks/tenant`, payload: { csm: 'pat' } });
    const result = await step.run(ctx());
    expect(result).toEqual({ status: 'done', outputs: { host: new URL(base).host, httpStatus: 200 } });
    const [first] = received;
    expect(first?.verified).toBe(true);
    expect(first?.idempotencyKey).toBe('acme-123.cs_record.tenant.provisioned');
    expect(JSON.parse(first?.body ?? '{}')).toMatchObject({ event: 'tenant.provisioned', tenant: { slug: 'acme' }, payload: { csm: 'pat' } });
    expect(first?.body).not.toContain(SECRET);
    expect(await step.check({ ...ctx(), outputs: { httpStatus: 200 } })).toEqual({ status: 'done' });
  });

  it('a signature made with another secret does not verify', async () => {
    const step = webhookStep.bind({ url: `${base}/hooks/tenant` });
    await step.run({ ...ctx(), services: { ...ctx().services, webhookSigningSecret: 'some-other-secret-value' } });
    expect(received[0]?.verified).toBe(false);
  });

  it('a 5xx or 429 is transient and a 4xx is permanent', async () => {
    const step = webhookStep.bind({ url: `${base}/hooks/tenant` });
    answer = 503;
    await expect(step.run(ctx())).rejects.toBeInstanceOf(TransientError);
    answer = 429;
    await expect(step.run(ctx())).rejects.toBeInstanceOf(TransientError);
    answer = 400;
    await expect(step.run(ctx())).rejects.toBeInstanceOf(PermanentError);
  });

  it('rollback calls the rollback URL, and a bad URL is refused at validation', async () => {
    const step = webhookStep.bind({ url: `${base}/hooks/tenant`, rollbackUrl: `${base}/hooks/undo` });
    await step.rollback(ctx());
    expect(received.map((r) => r.path)).toEqual(['/hooks/undo']);
    expect(JSON.parse(received[0]?.body ?? '{}')).toMatchObject({ event: 'tenant.provisioned.rollback' });
    expect(() => webhookStep.bind({ url: 'ftp://example.com/x' })).toThrow();
  });

  it('in Slack format posts only { text }, what a Slack incoming webhook accepts', async () => {
    const step = webhookStep.bind({ url: `${base}/services/T0/B0/x`, format: 'slack', text: 'Acme is live at https://acme.tenants.example.com' });
    await step.run(ctx());
    expect(JSON.parse(received[0]?.body ?? '{}')).toEqual({ text: 'Acme is live at https://acme.tenants.example.com' });
    answer = 404; // Slack's "no_service": the webhook was revoked; retrying cannot help
    await expect(step.run(ctx())).rejects.toBeInstanceOf(PermanentError);
  });

  it('a named endpoint is looked up when the step runs, so its URL is never part of the stored config', async () => {
    const step = webhookStep.bind({ endpoint: 'cs_platform' });
    const result = await step.run({ ...ctx(), services: { ...ctx().services, webhookEndpoints: { cs_platform: `${base}/hooks/cs` } } });
    expect(result).toMatchObject({ status: 'done', outputs: { host: new URL(base).host } });
    expect(received.map((r) => r.path)).toEqual(['/hooks/cs']);
    await expect(step.run(ctx())).rejects.toThrow('webhook endpoint cs_platform is not configured (set CS_PLATFORM_WEBHOOK_URL)');
    expect(() => webhookStep.bind({ endpoint: 'cs_platform', url: `${base}/x` })).toThrow(/either url or endpoint/);
  });
});

/**
 * The account-team notice in the repo's pipeline (`slack_notice`): a Slack
 * incoming webhook, here the webhook emulator. Slack reads `<…>` in the text
 * as mentions and links, so a company named like a mention must arrive as
 * text Slack shows as typed.
 */
describe('the Slack notice of the real pipeline, posted to the webhook emulator', () => {
  let sink: WebhookSink;
  beforeEach(async () => {
    sink = await startWebhookSink();
  });
  afterEach(() => sink.close());

  const hostile = '<!channel> & <https://evil.example|click>';

  /** The `slack_notice` step's config from manifests/pipeline.yaml, resolved for a deal with this company. */
  function slackNoticeConfig(companyName: string): unknown {
    const step = realManifests().pipeline.steps.find((s) => s.id === 'slack_notice');
    if (!step) throw new Error('the pipeline has no slack_notice step');
    return resolveTemplates(step.config, {
      intake: { companyName, crmOpportunityId: '006EVIL0001' },
      plan: { displayName: 'Enterprise' },
      tenant: { tenantUrl: 'https://acme.tenants.example.com' },
    });
  }

  async function deliveredText(config: unknown, companyName = hostile): Promise<string> {
    const step = webhookStep.bind(config);
    const context = stepContext({
      stepId: 'slack_notice',
      tenant: sampleTenant({ companyName }),
      services: { webhookEndpoints: { slack_notice: `${sink.url}/services/T0/B0/notice` } },
    });
    await step.run(context);
    const [delivery] = sink.deliveries();
    const body: unknown = JSON.parse(delivery?.body ?? '{}');
    const text: unknown = body !== null && typeof body === 'object' ? Reflect.get(body, 'text') : undefined;
    if (typeof text !== 'string') throw new Error(`no text in the notice: ${delivery?.body}`);
    return text;
  }

  it('pings nobody and links nothing, and still reads the company name as typed', async () => {
    const text = await deliveredText(slackNoticeConfig(hostile));
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil.example|click>');
    expect(text).not.toMatch(/[<>]/);
    expect(text).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; is live on Enterprise at https://acme.tenants.example.com (opportunity 006EVIL0001)',
    );
  });

  it('formats nothing the company typed, and changes none of its characters', async () => {
    const text = await deliveredText(slackNoticeConfig('*Acme* _Labs_ & Sons'), '*Acme* _Labs_ & Sons');
    expect(text).toMatch(/^`\*Acme\*` `_Labs_` &amp; Sons is live on Enterprise/);
  });

  it('escapes the default notice too, when the pipeline gives no text', async () => {
    const text = await deliveredText({ endpoint: 'slack_notice', format: 'slack' });
    expect(text).toBe('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; is live at https://acme.tenants.example.com');
  });
});
