/**
 * When billing starts for a sales-led deal: on the contract start date, after
 * the plan's free trial. Until then the subscription is trialing, so Stripe
 * charges nothing; a start already past means billing from now.
 */
import { addHours } from 'date-fns/addHours';
import { isAfter } from 'date-fns/isAfter';
import { parseISO } from 'date-fns/parseISO';

/** The moment to end the trial at (00:00 UTC of the billing start day), or undefined to bill from now. */
export function trialEndFor(contractStartDate: string, trialDays: number, now: Date): Date | undefined {
  const contractStart = parseISO(`${contractStartDate}T00:00:00Z`);
  // Whole UTC days: adding hours keeps a local daylight-saving change from moving the instant.
  const billingStart = addHours(contractStart, trialDays * 24);
  return isAfter(billingStart, now) ? billingStart : undefined;
}
