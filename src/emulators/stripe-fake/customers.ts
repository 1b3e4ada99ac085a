/**
 * Customers: create, retrieve, delete (which cancels the customer's
 * subscriptions, as Stripe does) and search with Stripe's query language
 * for the fields a provisioning bot looks up by: email, name, metadata.
 */
import { StripeFakeError } from './errors.ts';
import { allowOnly, metadataParam, optionalText, type FormObject } from './form.ts';
import { newId, nowSeconds, pageLimit, type CustomerRecord, type StripeState } from './state.ts';
import { cancelSubscriptionRecord } from './subscriptions.ts';

export function renderCustomer(customer: CustomerRecord): Record<string, unknown> {
  if (customer.deleted) return { id: customer.id, object: 'customer', deleted: true };
  return {
    id: customer.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: customer.created,
    currency: null,
    default_source: null,
    delinquent: false,
    description: customer.description,
    email: customer.email,
    invoice_prefix: customer.id.slice(4, 12).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: customer.metadata,
    name: customer.name,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function createCustomer(state: StripeState, params: FormObject): unknown {
  allowOnly(params, ['name', 'email', 'description', 'metadata', 'phone', 'expand']);
  const email = optionalText(params, 'email') ?? null;
  if (email !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    throw StripeFakeError.validation('email_invalid', 'email', `Invalid email address: ${email}`);
  }
  const customer: CustomerRecord = {
    id: newId('cus', 14),
    seq: state.nextSeq(),
    created: nowSeconds(),
    name: optionalText(params, 'name') ?? null,
    email,
    description: optionalText(params, 'description') ?? null,
    metadata: metadataParam(params),
    deleted: false,
    searchableFrom: Date.now() + state.searchIndexDelayMs,
  };
  state.customers.set(customer.id, customer);
  return renderCustomer(customer);
}

/** A deleted customer is still retrievable, as `{ id, object, deleted: true }`. */
export function retrieveCustomer(state: StripeState, id: string): unknown {
  const customer = state.customers.get(id);
  if (customer === undefined) throw StripeFakeError.notFound('customer', id);
  return renderCustomer(customer);
}

export function deleteCustomer(state: StripeState, id: string): unknown {
  const customer = state.customers.get(id);
  if (customer === undefined || customer.deleted) throw StripeFakeError.notFound('customer', id);
  customer.deleted = true;
  for (const subscription of state.subscriptions.values()) {
    if (subscription.customer === id && subscription.status !== 'canceled') cancelSubscriptionRecord(subscription);
  }
  return renderCustomer(customer);
}

type Clause = { field: 'email' | 'name' | 'metadata'; key: string; value: string };

// One `field:'value'` clause; values may be single- or double-quoted with backslash escapes.
const CLAUSE = /\s*(email|name|metadata\[(?:'([^']+)'|"([^"]+)")\])\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*/y;
const AND = /AND\b/y;

function invalidQuery(query: string, why: string): StripeFakeError {
  return StripeFakeError.validation('parameter_invalid_string', 'query', `Invalid query "${query}": ${why}`);
}

/** Parses `metadata['tenant_id']:'tnt_acme' AND email:'jane@acme.com'`. */
export function parseQuery(query: string): Clause[] {
  const clauses: Clause[] = [];
  let position = 0;
  while (position < query.length) {
    CLAUSE.lastIndex = position;
    const match = CLAUSE.exec(query);
    if (match === null)
      throw invalidQuery(
        query,
        `cannot read a clause at position ${position} (this stand-in supports email, name and metadata['key'] with ":" and AND)`,
      );
    const [, field = '', singleKey, doubleKey, singleValue, doubleValue] = match;
    const value = (singleValue ?? doubleValue ?? '').replace(/\\(.)/g, '$1');
    if (field === 'email' || field === 'name') clauses.push({ field, key: '', value });
    else clauses.push({ field: 'metadata', key: singleKey ?? doubleKey ?? '', value });
    position = CLAUSE.lastIndex;
    if (position >= query.length) break;
    AND.lastIndex = position;
    if (AND.exec(query) === null) throw invalidQuery(query, 'clauses must be joined with AND');
    position = AND.lastIndex;
  }
  if (clauses.length === 0) throw invalidQuery(query, 'the query is empty');
  return clauses;
}

function matches(customer: CustomerRecord, clause: Clause): boolean {
  if (clause.field === 'metadata') return customer.metadata[clause.key] === clause.value;
  return customer[clause.field] === clause.value;
}

/** Search reads an index that lags behind writes (about a minute on Stripe; `searchIndexDelayMs` here). */
export function searchCustomers(state: StripeState, params: FormObject): unknown {
  allowOnly(params, ['query', 'limit', 'page', 'expand']);
  const query = optionalText(params, 'query');
  if (query === undefined) throw StripeFakeError.validation('parameter_missing', 'query', 'Missing required param: query.');
  const clauses = parseQuery(query);
  const now = Date.now();
  const found = [...state.customers.values()]
    .filter((customer) => !customer.deleted && customer.searchableFrom <= now)
    .filter((customer) => clauses.every((clause) => matches(customer, clause)))
    .sort((a, b) => b.seq - a.seq);
  const limit = pageLimit(params);
  const offset = Number(optionalText(params, 'page') ?? '0') || 0;
  const hasMore = offset + limit < found.length;
  return {
    object: 'search_result',
    data: found.slice(offset, offset + limit).map(renderCustomer),
    has_more: hasMore,
    next_page: hasMore ? String(offset + limit) : null,
    url: '/v1/customers/search',
  };
}
