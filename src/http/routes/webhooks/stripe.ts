/**
 * POST /webhooks/stripe. The Stripe-Signature header is checked on the raw
 * body by the SDK (constructEvent, with the configured tolerance); a bad or
 * missing signature is 400, as Stripe's own webhook samples answer, and
 * changes nothing. Event types the provisioner does not follow are answered
 * 200 and ignored (Stripe's advice: it would otherwise retry them for days).
 */
import type { FastifyPluginAsync } from 'fastify';
import Stripe from 'stripe';
import type { Received } from '../../../app/billing.ts';
import type { EntitlementsEvent } from '../../../domain/entitlements.ts';
import { sendProblem } from '../api/problems.ts';
import { entitlementsOfStripeEvent, type StripeMapping } from './stripe-events.ts';

export type StripeWebhookDeps = {
  /** Undefined: not configured (production without STRIPE_WEBHOOK_SECRET); every call is 503. */
  secret: string | undefined;
  toleranceSeconds: number;
  mapping: StripeMapping;
  receive(event: EntitlementsEvent): Promise<Received>;
  onIgnored(reason: string): void;
};

const BAD_SIGNATURE = 'The Stripe-Signature header does not match this body, this endpoint secret and the tolerance window.';

/** The SDK's check of the Stripe-Signature header on the raw bytes, then the body as JSON. */
function verified(raw: Buffer, header: string, secret: string, toleranceSeconds: number): { event: unknown } | { problem: string } {
  try {
    return { event: Stripe.webhooks.constructEvent(raw, header, secret, toleranceSeconds) };
  } catch (err) {
    return { problem: err instanceof Stripe.errors.StripeSignatureVerificationError ? BAD_SIGNATURE : 'The signed body is not a JSON event.' };
  }
}

export const stripeWebhookRoute: FastifyPluginAsync<StripeWebhookDeps> = async (hooks, deps) => {
  hooks.post('/webhooks/stripe', async (request, reply) => {
    if (deps.secret === undefined) {
      return sendProblem(reply, {
        status: 503,
        title: 'Service Unavailable',
        detail: 'Stripe webhooks are not configured here (STRIPE_WEBHOOK_SECRET).',
      });
    }
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = request.headers['stripe-signature'];
    const event = typeof header === 'string' ? verified(raw, header, deps.secret, deps.toleranceSeconds) : { problem: BAD_SIGNATURE };
    if ('problem' in event) return sendProblem(reply, { status: 400, title: 'Bad Request', detail: event.problem });
    const mapped = entitlementsOfStripeEvent(event.event, deps.mapping);
    if (mapped.kind === 'ignored') {
      deps.onIgnored(mapped.reason);
      return reply.code(200).send({ outcome: 'ignored', reason: mapped.reason });
    }
    if (mapped.kind === 'invalid') {
      const errors = mapped.problems.map((problem) => ({ field: problem.split(':')[0] ?? '', detail: problem }));
      return sendProblem(reply, {
        status: 422,
        title: 'Unprocessable Content',
        detail: `Not an event the provisioner can read: ${errors.map((e) => e.field).join(', ')}.`,
        errors,
      });
    }
    const received = await deps.receive(mapped.event);
    return reply.code(200).send({ outcome: received.outcome, unmapped: mapped.unmapped });
  });
};
