/**
 * Updating a subscription (`POST /v1/subscriptions/:id`) as far as the
 * provisioner needs it: `cancel_at_period_end`, the way Stripe does it — the
 * subscription stays active (or trialing) with `cancel_at` at its current
 * period's end and `canceled_at` at the time of the request, and is canceled
 * only when that end comes; `false` takes the cancellation back. Metadata is
 * merged. A canceled subscription takes no such change.
 */
import { StripeFakeError } from './errors.ts';
import { allowOnly, metadataParam, optionalText, type FormObject } from './form.ts';
import { nowSeconds, type StripeState } from './state.ts';
import { currentPeriodEnd, renderSubscription } from './subscriptions.ts';

function optionalBoolean(params: FormObject, name: string): boolean | undefined {
  const value = optionalText(params, name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw StripeFakeError.validation('parameter_invalid_boolean', name, `Invalid boolean: ${value}`);
  return value === 'true';
}

export function updateSubscription(state: StripeState, params: FormObject, id: string): unknown {
  allowOnly(params, ['cancel_at_period_end', 'metadata', 'cancellation_details', 'description', 'proration_behavior', 'expand']);
  const subscription = state.subscriptions.get(id);
  if (subscription === undefined) throw StripeFakeError.notFound('subscription', id);
  const cancelAtPeriodEnd = optionalBoolean(params, 'cancel_at_period_end');
  const metadata = metadataParam(params);
  if (subscription.status === 'canceled' && cancelAtPeriodEnd !== undefined) {
    throw StripeFakeError.invalid('cancel_at_period_end', 'A canceled subscription can only update its cancellation_details and metadata.');
  }
  if (cancelAtPeriodEnd === true && !subscription.cancelAtPeriodEnd) {
    subscription.cancelAtPeriodEnd = true;
    subscription.cancelAt = currentPeriodEnd(state, subscription);
    subscription.canceledAt = nowSeconds();
  }
  if (cancelAtPeriodEnd === false) {
    subscription.cancelAtPeriodEnd = false;
    subscription.cancelAt = null;
    subscription.canceledAt = null;
  }
  subscription.metadata = { ...subscription.metadata, ...metadata };
  return renderSubscription(state, subscription);
}
