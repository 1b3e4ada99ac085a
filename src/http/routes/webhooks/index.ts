/**
 * POST /webhooks/stripe and /webhooks/bunny: billing providers' events. Each
 * route verifies the signature on the raw bytes, maps the payload to the one
 * entitlements event (a pure function beside it), and answers 2xx only once
 * the event is durably recorded. Errors are problem documents, like the API's.
 */
import type { FastifyPluginAsync } from 'fastify';
import { readBodiesRaw } from '../../raw-body.ts';
import type { Received } from '../../../app/billing.ts';
import type { EntitlementsEvent } from '../../../domain/entitlements.ts';
import { problemOfFramework, sendProblem } from '../api/problems.ts';
import { bunnyWebhookRoute, type BunnyWebhookDeps } from './bunny.ts';
import { stripeWebhookRoute, type StripeWebhookDeps } from './stripe.ts';

/** Stripe caps event payloads well below this; anything bigger is not a billing event. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

export type WebhookDeps = {
  receive(event: EntitlementsEvent): Promise<Received>;
  stripe: Omit<StripeWebhookDeps, 'receive'>;
  bunny: Omit<BunnyWebhookDeps, 'receive'>;
  onError(err: unknown): void;
};

export const webhookRoutes: FastifyPluginAsync<WebhookDeps> = async (hooks, deps) => {
  // Signatures cover the bytes as sent: keep them raw, whatever the content type says.
  readBodiesRaw(hooks, WEBHOOK_BODY_LIMIT);
  hooks.setErrorHandler(async (err, _request, reply) => {
    const status = err instanceof Error && 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : undefined;
    const known = problemOfFramework(status);
    if (known && status === 413) return sendProblem(reply, known);
    if (status !== undefined && status >= 400 && status < 500)
      return sendProblem(reply, { status, title: 'Bad Request', detail: 'The request could not be read.' });
    deps.onError(err);
    return sendProblem(reply, { status: 500, title: 'Internal Server Error', detail: 'The event was not recorded; send it again later.' });
  });
  await hooks.register(stripeWebhookRoute, { ...deps.stripe, receive: deps.receive });
  await hooks.register(bunnyWebhookRoute, { ...deps.bunny, receive: deps.receive });
};
