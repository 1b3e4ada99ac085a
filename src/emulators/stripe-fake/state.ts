/**
 * What the Stripe fake remembers: customers, prices, subscriptions and
 * billing meters, newest first in lists like Stripe's, with Stripe-looking
 * ids and cursor pagination (`limit`, `starting_after`).
 */
import { randomBytes } from 'node:crypto';
import { StripeFakeError } from './errors.ts';
import { optionalInteger, optionalText, type FormObject } from './form.ts';

export type Interval = 'day' | 'week' | 'month' | 'year';

export type CustomerRecord = {
  id: string;
  seq: number;
  created: number;
  name: string | null;
  email: string | null;
  description: string | null;
  metadata: Record<string, string>;
  deleted: boolean;
  /** Stripe's search index lags behind writes; the customer shows up in search from this time (ms). */
  searchableFrom: number;
};

export type PriceRecord = {
  id: string;
  seq: number;
  created: number;
  active: boolean;
  currency: string;
  lookupKey: string | null;
  unitAmount: number | null;
  product: string;
  recurring: { interval: Interval; intervalCount: number; usageType: 'licensed' | 'metered'; meter: string | null } | null;
};

export type SubscriptionStatus = 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused';

export type SubscriptionItemRecord = { id: string; created: number; price: string; quantity: number | null };

export type SubscriptionRecord = {
  id: string;
  seq: number;
  created: number;
  customer: string;
  status: SubscriptionStatus;
  items: SubscriptionItemRecord[];
  metadata: Record<string, string>;
  trialStart: number | null;
  trialEnd: number | null;
  billingCycleAnchor: number;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  daysUntilDue: number | null;
  /** When the cancellation was asked for: at once, or (with cancelAtPeriodEnd) when the end of the period was chosen, as on Stripe. */
  canceledAt: number | null;
  /** Set to cancel when its current period ends: still active (or trialing) until `cancelAt`. */
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  /** When it stopped (canceled). */
  endedAt: number | null;
  /** Proration invoice items left pending by item updates with proration_behavior create_prorations (as Stripe does). */
  prorations: ProrationRecord[];
};

export type ProrationRecord = { item: string; fromPrice: string; toPrice: string; at: number };

export type MeterRecord = {
  id: string;
  seq: number;
  created: number;
  displayName: string;
  eventName: string;
  formula: 'sum' | 'count' | 'last';
  status: 'active' | 'inactive';
};

export type StripeState = {
  customers: Map<string, CustomerRecord>;
  prices: Map<string, PriceRecord>;
  subscriptions: Map<string, SubscriptionRecord>;
  meters: Map<string, MeterRecord>;
  searchIndexDelayMs: number;
  /** Creation order, so lists come back newest first even within one second. */
  nextSeq(): number;
};

export function createState(searchIndexDelayMs: number): StripeState {
  let seq = 0;
  return {
    customers: new Map(),
    prices: new Map(),
    subscriptions: new Map(),
    meters: new Map(),
    searchIndexDelayMs,
    nextSeq: () => ++seq,
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** "cus_NffrFeUfNV2Hib", "sub_1MowQVLkdIwHu7ix…": a prefix and random base62. */
export function newId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let tail = '';
  for (const byte of bytes) tail += BASE62[byte % BASE62.length];
  return `${prefix}_${tail}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export type ListPage = { object: 'list'; data: unknown[]; has_more: boolean; url: string };

/** Newest first, `limit` 1–100 (default 10), continuing after `starting_after`. */
export function listPage<T extends { id: string; seq: number }>(
  records: Iterable<T>,
  params: FormObject,
  url: string,
  render: (record: T) => unknown,
): ListPage {
  const sorted = [...records].sort((a, b) => b.seq - a.seq);
  const limit = pageLimit(params);
  const after = optionalText(params, 'starting_after');
  let start = 0;
  if (after !== undefined) {
    const index = sorted.findIndex((record) => record.id === after);
    if (index < 0) throw StripeFakeError.missingReference('object', after, 'starting_after');
    start = index + 1;
  }
  const data = sorted.slice(start, start + limit);
  return { object: 'list', data: data.map(render), has_more: start + limit < sorted.length, url };
}

export function pageLimit(params: FormObject): number {
  const limit = optionalInteger(params, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw StripeFakeError.validation('parameter_invalid_integer', 'limit', 'Invalid limit: must be between 1 and 100');
  return limit;
}
