/**
 * Dates in words and as YYYY-MM-DD, in the server's time zone. date-fns'
 * `format` and `parse` load every locale token parser (about 120 MB of peak
 * memory in each process that imports them, measured): the few fixed shapes
 * here need only `lightFormat`, `parseISO` and the English month names.
 */
import { lightFormat } from 'date-fns/lightFormat';
import { parseISO } from 'date-fns/parseISO';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

type When = Date | number;
const dateOf = (when: When): Date => (typeof when === 'number' ? new Date(when) : when);

/** "2026-11-02" */
export function isoDay(when: When): string {
  return lightFormat(when, 'yyyy-MM-dd');
}

/** Midnight of a "2026-11-02" day, local time; an Invalid Date unless it is a real calendar day in that shape. */
export function parseIsoDay(value: string): Date {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseISO(value) : new Date(Number.NaN);
}

/** "14:02", or "14:02:09" with seconds. */
export function clockTime(when: When, opts: { seconds?: boolean } = {}): string {
  return lightFormat(when, opts.seconds ? 'HH:mm:ss' : 'HH:mm');
}

/** "25 November" */
export function dayAndMonth(when: When): string {
  const date = dateOf(when);
  return `${date.getDate()} ${MONTHS[date.getMonth()]}`;
}

/** "25 November 2026" */
export function dayMonthYear(when: When): string {
  return `${dayAndMonth(when)} ${dateOf(when).getFullYear()}`;
}

/** "Wednesday 25 November 2026" */
export function weekdayDate(when: When): string {
  return `${WEEKDAYS[dateOf(when).getDay()]} ${dayMonthYear(when)}`;
}
