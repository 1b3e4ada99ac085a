/**
 * Which handler answers which Stripe endpoint. Search comes before the
 * `/:id` routes, as it would otherwise read as a customer id.
 */
import { updateSubscriptionItem } from './subscription-items.ts';
import { createMeter, listMeters, listPrices, retrieveMeter, retrievePrice } from './catalog.ts';
import { createCustomer, deleteCustomer, retrieveCustomer, searchCustomers } from './customers.ts';
import type { FormObject } from './form.ts';
import type { StripeState } from './state.ts';
import { cancelSubscription, createSubscription, listSubscriptions, retrieveSubscription } from './subscriptions.ts';
import { updateSubscription } from './subscription-updates.ts';

type Handler = (state: StripeState, params: FormObject, id: string) => unknown;

type Route = { method: 'GET' | 'POST' | 'DELETE'; path: RegExp; handle: Handler };

const ID = '([A-Za-z0-9_]+)';

const ROUTES: readonly Route[] = [
  { method: 'GET', path: /^\/v1\/customers\/search$/, handle: (state, params) => searchCustomers(state, params) },
  { method: 'POST', path: /^\/v1\/customers$/, handle: (state, params) => createCustomer(state, params) },
  { method: 'GET', path: new RegExp(`^/v1/customers/${ID}$`), handle: (state, _params, id) => retrieveCustomer(state, id) },
  { method: 'DELETE', path: new RegExp(`^/v1/customers/${ID}$`), handle: (state, _params, id) => deleteCustomer(state, id) },
  { method: 'GET', path: /^\/v1\/prices$/, handle: (state, params) => listPrices(state, params) },
  { method: 'GET', path: new RegExp(`^/v1/prices/${ID}$`), handle: (state, _params, id) => retrievePrice(state, id) },
  { method: 'POST', path: /^\/v1\/subscriptions$/, handle: (state, params) => createSubscription(state, params) },
  { method: 'GET', path: /^\/v1\/subscriptions$/, handle: (state, params) => listSubscriptions(state, params) },
  { method: 'GET', path: new RegExp(`^/v1/subscriptions/${ID}$`), handle: (state, _params, id) => retrieveSubscription(state, id) },
  { method: 'POST', path: new RegExp(`^/v1/subscriptions/${ID}$`), handle: (state, params, id) => updateSubscription(state, params, id) },
  { method: 'DELETE', path: new RegExp(`^/v1/subscriptions/${ID}$`), handle: (state, params, id) => cancelSubscription(state, id, params) },
  { method: 'POST', path: new RegExp(`^/v1/subscription_items/${ID}$`), handle: (state, params, id) => updateSubscriptionItem(state, params, id) },
  { method: 'POST', path: /^\/v1\/billing\/meters$/, handle: (state, params) => createMeter(state, params) },
  { method: 'GET', path: /^\/v1\/billing\/meters$/, handle: (state, params) => listMeters(state, params) },
  { method: 'GET', path: new RegExp(`^/v1/billing/meters/${ID}$`), handle: (state, _params, id) => retrieveMeter(state, id) },
];

/** The handler for this request, bound to the id in its path; undefined for an unknown URL. */
export function findRoute(method: string, path: string): ((state: StripeState, params: FormObject) => unknown) | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.path.exec(path);
    if (match) return (state, params) => route.handle(state, params, match[1] ?? '');
  }
  return undefined;
}
