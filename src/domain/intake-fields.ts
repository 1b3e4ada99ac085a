/**
 * The intake's field parsers: what a person may type in each field, and the
 * message that tells them how to fix it. Everything is refused here that
 * would otherwise fail later, after the tenant's database, DNS record and
 * Stripe customer exist.
 */
import { z } from 'zod';
import { addDays } from 'date-fns/addDays';
import { differenceInCalendarDays } from 'date-fns/differenceInCalendarDays';
import { isValid } from 'date-fns/isValid';
import { subDays } from 'date-fns/subDays';
import { isoDay, parseIsoDay } from './calendar.ts';
import { hasVisibleCharacter, unsafeCharacter } from './text-safety.ts';

const CONTRACT_START_GRACE_DAYS = 30;
/** Stripe schedules a subscription's first bill (the end of its trial) at most 730 days ahead. */
export const BILLING_START_MAX_DAYS_AHEAD = 730;
/** RFC 5321: a whole address fits in 254 characters, the part before "@" in 64. */
const EMAIL_MAX = 254;
const EMAIL_LOCAL_MAX = 64;
/**
 * A trillion: far above any contract we will sign, so a larger number is a
 * typo (extra zeros, cents typed as units); it also keeps every amount exact
 * to the cent (10^14 cents is below 2^53).
 */
export const CONTRACT_VALUE_MAX = 1_000_000_000_000;

/** Free text a person types: trimmed, bounded, visible, and free of characters that would reach a terminal or an email raw. */
export const text = (label: string, max: number) =>
  z
    .string({ error: `Enter the ${label}` })
    .trim()
    .min(1, { error: `Enter the ${label}` })
    .max(max, { error: `The ${label} must be at most ${max} characters` })
    .refine((value) => unsafeCharacter(value) === undefined, {
      error: (issue) => `The ${label} contains ${unsafeCharacter(String(issue.input))}; type it again without it`,
      abort: true,
    })
    .refine(hasVisibleCharacter, { error: `The ${label} has no visible characters` });

export const emailSchema = z
  .string({ error: "Enter the customer admin's email address" })
  .trim()
  .refine((value) => unsafeCharacter(value) === undefined, {
    error: (issue) => `The admin email contains ${unsafeCharacter(String(issue.input))}; type it again without it`,
    abort: true,
  })
  .max(EMAIL_MAX, { error: `The admin email must be at most ${EMAIL_MAX} characters`, abort: true })
  .refine((value) => value.slice(0, value.lastIndexOf('@')).length <= EMAIL_LOCAL_MAX, {
    error: `The part of the admin email before "@" must be at most ${EMAIL_LOCAL_MAX} characters`,
    abort: true,
  })
  .pipe(z.email({ error: 'Enter a valid email address, e.g. jane@acme.com' }));

/** One of a fixed list (plans, data residencies); an empty answer is asked for again, never defaulted. */
export function oneOf(label: string, known: readonly string[]) {
  const choose = `Choose a ${label}: ${known.join(', ')}`;
  return z
    .string({ error: choose })
    .refine((value) => value.trim() !== '', { error: choose, abort: true })
    .refine((value) => known.includes(value), {
      error: (issue) => `Unknown ${label} "${String(issue.input)}"; choose one of: ${known.join(', ')}`,
    });
}

export function contractStartDateSchema(today: Date) {
  const earliest = subDays(today, CONTRACT_START_GRACE_DAYS);
  return z
    .string({ error: 'Enter the contract start date as YYYY-MM-DD, e.g. 2026-11-02' })
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/, {
      error: 'Use the format YYYY-MM-DD for the contract start date, e.g. 2026-11-02',
      abort: true,
    })
    .refine((value) => isValid(parseIsoDay(value)), {
      error: (issue) => `${String(issue.input)} is not a real calendar date`,
      abort: true,
    })
    .refine((value) => differenceInCalendarDays(today, parseIsoDay(value)) <= CONTRACT_START_GRACE_DAYS, {
      error: (issue) =>
        `Contract start date ${String(issue.input)} is more than ${CONTRACT_START_GRACE_DAYS} days in the past; the earliest allowed is ${isoDay(earliest)}`,
      abort: true,
    })
    .refine((value) => billingStartProblem(value, 0, today) === undefined, {
      error: (issue) => billingStartProblem(String(issue.input), 0, today),
    });
}

/**
 * Why billing could not start `trialDays` after the contract starts, or
 * undefined when it can: Stripe refuses a first bill more than 730 days ahead.
 */
export function billingStartProblem(contractStartDate: string, trialDays: number, today: Date): string | undefined {
  const billingStart = addDays(parseIsoDay(contractStartDate), trialDays);
  if (differenceInCalendarDays(billingStart, today) <= BILLING_START_MAX_DAYS_AHEAD) return undefined;
  const latest = isoDay(subDays(addDays(today, BILLING_START_MAX_DAYS_AHEAD), trialDays));
  const trial = trialDays > 0 ? ` with its ${trialDays}-day trial` : '';
  return (
    `Contract start date ${contractStartDate}${trial} puts the first bill more than ${BILLING_START_MAX_DAYS_AHEAD} days ahead, ` +
    `further than Stripe can schedule it; the latest allowed is ${latest}`
  );
}

const ENTER_AMOUNT = 'Enter the contract value as a number, e.g. 120000 or 120,000';
/** Whole units, with thousands separators (a comma or a space, the same throughout) every three digits or none, then decimals. */
const AMOUNT = /^(?<units>\d{1,3}(?<sep>[, ])\d{3}(?:\k<sep>\d{3})*|\d+)(?:\.(?<decimals>\d+))?$/;

/**
 * Money as typed in a modal or the CLI ("120,000", "1,234,567.50") or sent as
 * a number by the API. Only amounts that are exact to the cent and within
 * CONTRACT_VALUE_MAX pass; "1,2,3" is not read as 123.
 */
export const contractValueSchema = z
  .unknown()
  .optional()
  .transform((raw, ctx): number => {
    const amount = typeof raw === 'string' ? amountOfText(raw) : typeof raw === 'number' ? amountOfNumber(raw, String(raw)) : ENTER_AMOUNT;
    if (typeof amount === 'number') return amount;
    ctx.addIssue({ code: 'custom', message: amount, input: raw });
    return z.NEVER;
  });

/** The amount, or the message saying what is wrong with it. */
function amountOfText(raw: string): number | string {
  const typed = raw.trim();
  if (/^-\s*\d/.test(typed)) return 'Contract value cannot be negative';
  const match = AMOUNT.exec(typed);
  if (!match?.groups) {
    const misplaced = /^\d[\d, ]*(\.\d*)?$/.test(typed) && /[, ]/.test(typed);
    return misplaced ? `"${typed}" is not an amount: put thousands separators every three digits, e.g. 1,234,567.50` : ENTER_AMOUNT;
  }
  const { units = '', decimals = '' } = match.groups;
  if (decimals.length > 2) return `Contract value ${typed} has more than 2 decimal places; give it to the cent`;
  return amountOfNumber(Number(`${units.replace(/[, ]/g, '')}.${decimals || '0'}`), typed);
}

function amountOfNumber(value: number, shown: string): number | string {
  if (Number.isNaN(value)) return ENTER_AMOUNT;
  if (value < 0) return 'Contract value cannot be negative';
  if (value > CONTRACT_VALUE_MAX) return `Contract value ${shown} is above the maximum of ${CONTRACT_VALUE_MAX.toLocaleString('en-US')}`;
  const cents = Math.round(value * 100);
  // Binary fractions: 19.99 * 100 is 1998.9999999999998, which is still a whole number of cents.
  if (Math.abs(value * 100 - cents) > 1e-6) return `Contract value ${shown} has more than 2 decimal places; give it to the cent`;
  return cents / 100 || 0; // and -0 is 0
}
