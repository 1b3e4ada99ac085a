/**
 * Ending a decommissioned tenant's billing the way its customer paid for it:
 * each subscription set to cancel at the end of its current period
 * (`cancel_at_period_end`), so it stays active until then and Stripe cancels
 * it on that day; the customer stays, as deleting it would cancel at once.
 * Idempotent: a subscription already set to end, already canceled or gone is
 * left as it is.
 */
import type Stripe from 'stripe';
import { dayWords } from '../../domain/wording.ts';
import type { RollbackResult } from '../step.ts';
import { billingError, isResourceMissing } from './errors.ts';
import { isLive } from './lookups.ts';

type Ending = { subscriptionId: string; endsAt: number | undefined } | { subscriptionId: string; gone: true };

/** When a subscription set to end will end (ms): its cancel_at, else its items' current period end. */
function endOf(subscription: Stripe.Subscription): number | undefined {
  const seconds = subscription.cancel_at ?? subscription.items.data[0]?.current_period_end;
  return seconds === undefined ? undefined : seconds * 1000;
}

async function endAtPeriodEnd(stripe: Stripe, subscription: Stripe.Subscription): Promise<Ending> {
  if (subscription.cancel_at_period_end) return { subscriptionId: subscription.id, endsAt: endOf(subscription) };
  try {
    const updated = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    return { subscriptionId: updated.id, endsAt: endOf(updated) };
  } catch (err) {
    if (isResourceMissing(err)) return { subscriptionId: subscription.id, gone: true };
    // Canceled meanwhile (Stripe refuses to set a canceled subscription to end): already what we want.
    const now = await stripe.subscriptions.retrieve(subscription.id).catch(() => undefined);
    if (now !== undefined && !isLive(now)) return { subscriptionId: subscription.id, gone: true };
    throw billingError(err, 'cancellation');
  }
}

function sentence(ending: Ending): string {
  if ('gone' in ending) return `Stripe subscription ${ending.subscriptionId} had already ended`;
  const when = ending.endsAt === undefined ? '' : `, ${dayWords(ending.endsAt)}`;
  return `Stripe subscription ${ending.subscriptionId} cancels at the end of its period${when} (paid until then)`;
}

/** Sets each live subscription to end with its period; says until when each runs, for the trail. */
export async function endWithPeriod(stripe: Stripe, subscriptions: readonly Stripe.Subscription[], customerName: string): Promise<RollbackResult> {
  if (subscriptions.length === 0) return { summary: `No Stripe subscription of ${customerName} was still live: nothing left to end` };
  const endings: Ending[] = [];
  for (const subscription of subscriptions) endings.push(await endAtPeriodEnd(stripe, subscription));
  return { summary: `${endings.map(sentence).join('; ')}; the customer ${customerName} is kept in Stripe for its invoices` };
}
