/**
 * What a Stripe failure means for the job. Rate limits, Stripe's own 5xx and
 * dropped connections pass, so they are transient; a refused request or key
 * will be refused again, so it is permanent, with a message that names what
 * to fix. Stripe's messages mask keys; ours never quote one.
 */
import type Stripe from 'stripe';
import { PermanentError, TransientError, errorMessage } from '../../domain/errors.ts';

/**
 * The SDK's error, recognised by its shape (every one carries its class's name as `type`, and the
 * raw answer): testing `instanceof` an SDK class would load the SDK in every process, billing or not.
 */
function isStripeError(err: unknown): err is Stripe.errors.StripeError {
  return err instanceof Error && 'type' in err && typeof err.type === 'string' && 'raw' in err;
}

/** The object the failing call was about, as a person reads it: "customer", "subscription"… */
export type BillingObject =
  | 'customer'
  | 'subscription'
  | 'subscription item'
  | 'usage meter'
  | 'price lookup'
  | 'cancellation'
  | 'customer deletion'
  | 'lookup';

/** Where a person fixes a refused parameter. */
function hintFor(param: string | undefined): string {
  if (param === undefined) return '';
  if (param.includes('price')) return ' (check billing.priceRef and billing.meters in manifests/plans.yaml)';
  if (param === 'email') return " (check the customer admin's email in the intake)";
  if (param === 'trial_end') return ' (check the contract start date and billing.trialDays in manifests/plans.yaml)';
  return ` (Stripe parameter: ${param})`;
}

export function billingError(err: unknown, object: BillingObject): Error {
  if (err instanceof TransientError || err instanceof PermanentError) return err;
  if (!isStripeError(err)) return new TransientError(`Stripe ${object} request failed: ${errorMessage(err)}`);
  if (err.type === 'StripeRateLimitError') return new TransientError(`Stripe rate-limited the ${object} request (HTTP 429); will retry`);
  if (err.type === 'StripeConnectionError') return new TransientError(`Stripe unreachable during the ${object} request: ${err.message}`);
  if (err.type === 'StripeAuthenticationError') {
    return new PermanentError(`Stripe rejected our API key (HTTP 401) during the ${object} request; check STRIPE_SECRET_KEY`);
  }
  if (err.type === 'StripePermissionError') {
    return new PermanentError(`Our Stripe API key may not make the ${object} request (HTTP 403); grant the restricted key that permission`);
  }
  if (err.type === 'StripeIdempotencyError') {
    return new PermanentError(
      `Stripe refused the ${object}: ${err.message} (the request changed since it was first sent; it can be retried as a new job)`,
    );
  }
  if ((err.statusCode ?? 0) >= 500) return new TransientError(`Stripe failed the ${object} request (HTTP ${err.statusCode}): ${err.message}`);
  if (err.type === 'StripeAPIError') return new TransientError(`Stripe failed the ${object} request: ${err.message}`);
  return new PermanentError(`Stripe refused the ${object}: ${err.message}${hintFor(err.param)}`);
}

/** Runs one Stripe call and turns its failure into a step error. */
export async function stripeCall<T>(object: BillingObject, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw billingError(err, object);
  }
}

/** Stripe's "No such …": the object is already gone, which rollback and check take as an answer. */
export function isResourceMissing(err: unknown): boolean {
  return isStripeError(err) && err.code === 'resource_missing';
}
