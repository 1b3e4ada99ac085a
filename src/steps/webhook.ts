/**
 * POSTs a signed JSON event to a configured URL (a CS platform, an internal
 * service). Success is any 2xx; an optional rollback URL is told to undo.
 * With `format: slack` the body is a Slack incoming-webhook message instead.
 */
import { z } from 'zod';
import { LIMITS, literal, truncate } from '../domain/mrkdwn.ts';
import { postSigned } from './signed-post.ts';
import { defineStep, type StepContext } from './step.ts';
import { EndpointNameSchema, endpointProblems, endpointUrl } from './webhook-endpoints.ts';

const input = z
  .strictObject({
    /** A fixed URL, or (better for URLs that carry a token) `endpoint`, a named endpoint from configuration. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    endpoint: EndpointNameSchema.optional(),
    rollbackUrl: z.url({ protocol: /^https?$/ }).optional(),
    event: z.string().min(1).default('tenant.provisioned'),
    payload: z.record(z.string(), z.unknown()).default({}),
    summary: z.string().optional(),
    /** `event`: our signed JSON event. `slack`: `{ text }`, what a Slack incoming webhook accepts. */
    format: z.enum(['event', 'slack']).default('event'),
    /**
     * The message for `format: slack`, shown as written: values in it (a company name) cannot
     * mention anyone or link anywhere, because it is escaped like everything else we send to Slack.
     */
    text: z.string().min(1).optional(),
  })
  .refine((cfg) => (cfg.url === undefined) !== (cfg.endpoint === undefined), {
    error: 'give either url or endpoint (a configured webhook endpoint such as cs_platform), not both',
  });
type Input = z.output<typeof input>;

function bodyFor(ctx: StepContext<Input>, event: string): string {
  if (ctx.input.format === 'slack')
    return JSON.stringify({ text: slackText(ctx.input.text ?? `${ctx.tenant.companyName} is live at ${ctx.tenant.tenantUrl}`) });
  return JSON.stringify({
    event,
    jobId: ctx.jobId,
    stepId: ctx.stepId,
    tenant: { id: ctx.tenant.tenantId, slug: ctx.tenant.slug, url: ctx.tenant.tenantUrl, plan: ctx.tenant.planId },
    payload: ctx.input.payload,
  });
}

/** The notice as Slack will show it: escaped as every text we send to Slack is, and within a message's length. */
function slackText(text: string): string {
  return truncate(literal(text), LIMITS.messageText);
}

/** Where the event goes: the fixed URL, or the named endpoint's URL, looked up now and never stored. */
function targetOf(ctx: StepContext<Input>): string {
  return ctx.input.url ?? endpointUrl(ctx.services.webhookEndpoints, ctx.input.endpoint ?? '');
}

function post(ctx: StepContext<Input>, url: string, event: string): Promise<number> {
  return postSigned(ctx.services, {
    url,
    body: bodyFor(ctx, event),
    idempotencyKey: `${ctx.idempotencyKey}.${event}`,
    signal: ctx.signal,
    receiver: `webhook ${new URL(url).host}`,
  });
}

export const webhookStep = defineStep({
  type: 'webhook',
  description: 'POSTs a signed JSON event to a URL; 2xx is success; optional rollback URL.',
  input,
  async run(ctx) {
    const url = targetOf(ctx);
    const status = await post(ctx, url, ctx.input.event);
    return { status: 'done', outputs: { host: new URL(url).host, httpStatus: status } };
  },
  async check(ctx) {
    // A webhook leaves nothing we can look up; an accepted delivery is the evidence.
    if (typeof ctx.outputs['httpStatus'] === 'number') return { status: 'done' };
    return { status: 'missing', reason: 'the webhook was not delivered' };
  },
  async rollback(ctx) {
    if (ctx.input.rollbackUrl) await post(ctx, ctx.input.rollbackUrl, `${ctx.input.event}.rollback`);
  },
  crossCheck(cfg, facts) {
    return cfg.endpoint === undefined ? [] : endpointProblems(cfg.endpoint, facts.webhookEndpoints);
  },
  plan(cfg) {
    // The endpoint's URL may carry a token: the preview names the endpoint, never its URL.
    const target = cfg.url ? new URL(cfg.url).host : `the ${cfg.endpoint} endpoint`;
    const what = cfg.format === 'slack' ? 'a Slack message' : `the signed event ${cfg.event}`;
    const undo = cfg.rollbackUrl ? `; a rollback tells ${new URL(cfg.rollbackUrl).host}` : '';
    return { summary: `Send ${what} to ${target}${undo}`, resources: [] };
  },
  describe(cfg) {
    return cfg.summary ?? `${cfg.event} sent to ${cfg.url ? new URL(cfg.url).host : `the ${cfg.endpoint} endpoint`}`;
  },
});
