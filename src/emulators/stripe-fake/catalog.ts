/**
 * The product catalogue: prices (loaded at start, listed by lookup key) and
 * billing meters (created by the bot, shared by every tenant).
 */
import { StripeFakeError } from './errors.ts';
import { allowOnly, optionalList, optionalObject, optionalText, requiredText, type FormObject } from './form.ts';
import { listPage, newId, nowSeconds, type Interval, type MeterRecord, type PriceRecord, type StripeState } from './state.ts';

/** A price to preload, in Stripe's own field names. */
export type FakePriceInput = {
  /** Defaults to a generated `price_…` id. */
  id?: string;
  lookup_key?: string;
  unit_amount?: number;
  currency?: string;
  active?: boolean;
  recurring: { interval: Interval; interval_count?: number; usage_type?: 'licensed' | 'metered'; meter?: string };
};

export function addPrice(state: StripeState, input: FakePriceInput): PriceRecord {
  const price: PriceRecord = {
    id: input.id ?? newId('price'),
    seq: state.nextSeq(),
    created: nowSeconds(),
    active: input.active ?? true,
    currency: input.currency ?? 'usd',
    lookupKey: input.lookup_key ?? null,
    unitAmount: input.recurring.usage_type === 'metered' ? null : (input.unit_amount ?? 0),
    product: newId('prod', 14),
    recurring: {
      interval: input.recurring.interval,
      intervalCount: input.recurring.interval_count ?? 1,
      usageType: input.recurring.usage_type ?? 'licensed',
      meter: input.recurring.meter ?? null,
    },
  };
  state.prices.set(price.id, price);
  return price;
}

export function renderPrice(price: PriceRecord): Record<string, unknown> {
  return {
    id: price.id,
    object: 'price',
    active: price.active,
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: price.lookupKey,
    metadata: {},
    nickname: null,
    product: price.product,
    recurring: price.recurring && {
      interval: price.recurring.interval,
      interval_count: price.recurring.intervalCount,
      meter: price.recurring.meter,
      usage_type: price.recurring.usageType,
    },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: price.recurring ? 'recurring' : 'one_time',
    unit_amount: price.unitAmount,
    unit_amount_decimal: price.unitAmount === null ? null : String(price.unitAmount),
  };
}

export function retrievePrice(state: StripeState, id: string): unknown {
  const price = state.prices.get(id);
  if (price === undefined) throw StripeFakeError.notFound('price', id);
  return renderPrice(price);
}

export function listPrices(state: StripeState, params: FormObject): unknown {
  allowOnly(params, ['active', 'lookup_keys', 'limit', 'starting_after', 'expand', 'currency', 'type']);
  const lookupKeys = optionalList(params, 'lookup_keys').filter((key) => typeof key === 'string');
  if (lookupKeys.length > 10) throw StripeFakeError.validation('parameter_invalid_array', 'lookup_keys', 'You may pass at most 10 lookup_keys.');
  const active = optionalText(params, 'active');
  const prices = [...state.prices.values()].filter(
    (price) =>
      (lookupKeys.length === 0 || (price.lookupKey !== null && lookupKeys.includes(price.lookupKey))) &&
      (active === undefined || String(price.active) === active),
  );
  return listPage(prices, params, '/v1/prices', renderPrice);
}

export function renderMeter(meter: MeterRecord): Record<string, unknown> {
  return {
    id: meter.id,
    object: 'billing.meter',
    created: meter.created,
    customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
    default_aggregation: { formula: meter.formula },
    display_name: meter.displayName,
    event_name: meter.eventName,
    event_time_window: null,
    livemode: false,
    status: meter.status,
    status_transitions: { deactivated_at: null },
    updated: meter.created,
    value_settings: { event_payload_key: 'value' },
  };
}

const FORMULAS: readonly MeterRecord['formula'][] = ['sum', 'count', 'last'];

function isFormula(value: string): value is MeterRecord['formula'] {
  return FORMULAS.some((formula) => formula === value);
}

export function createMeter(state: StripeState, params: FormObject): unknown {
  allowOnly(params, ['display_name', 'event_name', 'default_aggregation', 'customer_mapping', 'value_settings', 'event_time_window', 'expand']);
  const displayName = requiredText(params, 'display_name');
  const eventName = requiredText(params, 'event_name');
  const aggregation = optionalObject(params, 'default_aggregation');
  if (aggregation === undefined)
    throw StripeFakeError.validation('parameter_missing', 'default_aggregation', 'Missing required param: default_aggregation.');
  const formula = requiredText(aggregation, 'formula');
  if (!isFormula(formula)) {
    throw StripeFakeError.validation(
      'parameter_invalid_string',
      'default_aggregation[formula]',
      `Invalid default_aggregation[formula]: must be one of ${FORMULAS.join(', ')}`,
    );
  }
  const meter: MeterRecord = {
    id: newId('mtr'),
    seq: state.nextSeq(),
    created: nowSeconds(),
    displayName,
    eventName,
    formula,
    status: 'active',
  };
  state.meters.set(meter.id, meter);
  return renderMeter(meter);
}

export function retrieveMeter(state: StripeState, id: string): unknown {
  const meter = state.meters.get(id);
  if (meter === undefined) throw StripeFakeError.notFound('billing.meter', id);
  return renderMeter(meter);
}

export function listMeters(state: StripeState, params: FormObject): unknown {
  allowOnly(params, ['status', 'limit', 'starting_after', 'expand']);
  const status = optionalText(params, 'status');
  const meters = [...state.meters.values()].filter((meter) => status === undefined || meter.status === status);
  return listPage(meters, params, '/v1/billing/meters', renderMeter);
}
