/**
 * What each Stripe failure means for a billing step, for every error the SDK
 * makes of Stripe's answers. The step recognises them by their `type`, not by
 * `instanceof` the SDK's classes (which would load the SDK in every process):
 * these are the SDK's own errors, built as it builds them from an HTTP answer.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../src/domain/errors.ts';
import { billingError, isResourceMissing } from '../../src/steps/billing/errors.ts';

type StripeAnswer = Parameters<typeof Stripe.errors.StripeError.generate>[0];

/** The error the SDK raises for this answer of Stripe's. */
function answered(statusCode: number, raw: Pick<StripeAnswer, 'message' | 'type' | 'code' | 'param'>) {
  return Stripe.errors.StripeError.generate({ statusCode, type: 'invalid_request_error', ...raw });
}

describe('a Stripe failure during a billing step', () => {
  it.each([
    [
      'rate limited (429)',
      answered(429, { message: 'Too many requests' }),
      TransientError,
      'Stripe rate-limited the customer request (HTTP 429); will retry',
    ],
    [
      'unreachable',
      new Stripe.errors.StripeConnectionError({ message: 'connect ECONNREFUSED' }),
      TransientError,
      'Stripe unreachable during the customer request: connect ECONNREFUSED',
    ],
    [
      'a wrong key (401)',
      answered(401, { message: 'Invalid API Key provided: sk_test_***' }),
      PermanentError,
      'Stripe rejected our API key (HTTP 401) during the customer request; check STRIPE_SECRET_KEY',
    ],
    [
      'a key without the permission (403)',
      answered(403, { message: 'restricted' }),
      PermanentError,
      'Our Stripe API key may not make the customer request (HTTP 403); grant the restricted key that permission',
    ],
    [
      'a key reused with other parameters',
      answered(400, { message: 'Keys for idempotent requests can only be used with the same parameters', type: 'idempotency_error' }),
      PermanentError,
      'Stripe refused the customer: Keys for idempotent requests can only be used with the same parameters (the request changed since it was first sent; it can be retried as a new job)',
    ],
    [
      "Stripe's own trouble (503)",
      answered(503, { message: 'unavailable', type: 'api_error' }),
      TransientError,
      'Stripe failed the customer request (HTTP 503): unavailable',
    ],
    [
      'a refused parameter',
      answered(400, { message: 'No such price', param: 'items[0][price]' }),
      PermanentError,
      'Stripe refused the customer: No such price (check billing.priceRef and billing.meters in manifests/plans.yaml)',
    ],
    ['a declined card (402)', answered(402, { message: 'declined', type: 'card_error' }), PermanentError, 'Stripe refused the customer: declined'],
    ['not a Stripe error at all', new Error('socket hang up'), TransientError, 'Stripe customer request failed: socket hang up'],
  ])('%s', (_, err, kind, message) => {
    const failure = billingError(err, 'customer');
    expect(failure).toBeInstanceOf(kind);
    expect(failure.message).toBe(message);
  });

  it('an API error without a status is transient too', () => {
    const failure = billingError(new Stripe.errors.StripeAPIError({ message: 'bad gateway body' }), 'subscription');
    expect(failure).toBeInstanceOf(TransientError);
    expect(failure.message).toBe('Stripe failed the subscription request: bad gateway body');
  });

  it('"No such …" means the object is gone; other failures do not', () => {
    expect(isResourceMissing(answered(404, { message: 'No such customer', code: 'resource_missing' }))).toBe(true);
    expect(isResourceMissing(answered(400, { message: 'bad', code: 'parameter_invalid_empty' }))).toBe(false);
    expect(isResourceMissing(Object.assign(new Error('No such customer'), { code: 'resource_missing' }))).toBe(false);
  });
});
