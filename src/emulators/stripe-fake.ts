/**
 * The local profile's stand-in for Stripe: a stateful loopback server that
 * speaks Stripe's v1 REST API (form-encoded bodies with bracket notation,
 * Bearer auth, Stripe's error envelope, idempotency keys) well enough for
 * the official `stripe` SDK to work unchanged. It holds customers, prices
 * (preloaded), subscriptions and billing meters. Stripe-mock is stateless
 * and localstripe has neither prices nor idempotency, hence this server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { text } from 'node:stream/consumers';
import { addPrice, type FakePriceInput } from './stripe-fake/catalog.ts';
import { authenticationError, idempotencyMismatch, injectedError, StripeFakeError, unrecognizedUrl } from './stripe-fake/errors.ts';
import { parseForm, type FormObject } from './stripe-fake/form.ts';
import { createHolds } from './stripe-fake/holds.ts';
import { createIdempotencyStore, fingerprint, MAX_KEY_LENGTH, type Reply } from './stripe-fake/idempotency.ts';
import { findRoute } from './stripe-fake/routes.ts';
import { createState, newId, type StripeState } from './stripe-fake/state.ts';
import { endDuePeriods } from './stripe-fake/subscriptions.ts';
import { createWebhookSender, type WebhookDelivery, type WebhookEndpoint } from './stripe-fake/webhooks.ts';
import { pause, type Latency } from './latency.ts';
import { listenOnLoopback } from './listen.ts';

export type { FakePriceInput } from './stripe-fake/catalog.ts';
export type { WebhookDelivery, WebhookEndpoint } from './stripe-fake/webhooks.ts';

export type StripeFakeOptions = {
  port?: number;
  /** Secret keys the fake accepts; the first is the local profile's default key. */
  apiKeys?: readonly string[];
  prices?: readonly FakePriceInput[];
  /** How long a new customer stays invisible to search (Stripe: up to about a minute). Default 0. */
  searchIndexDelayMs?: number;
  /** Each request waits this long before it is carried out, and again before it is answered (default none). */
  latency?: Latency;
  /** Where subscription events are sent, signed with the endpoint secret (none by default). */
  webhookEndpoint?: WebhookEndpoint;
};

export type RequestLogEntry = {
  method: string;
  path: string;
  status: number;
  idempotencyKey: string | undefined;
  replayed: boolean;
};

export type FakeCustomer = { id: string; name: string | null; email: string | null; metadata: Record<string, string> };
export type FakeSubscription = {
  id: string;
  customer: string;
  status: string;
  priceIds: string[];
  trialEnd: number | null;
  /** Set to cancel at the end of its period (then still live until `cancelAt`, Unix seconds). */
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  metadata: Record<string, string>;
  /** Price swaps billed pro rata (pending proration items), oldest first. */
  prorations: { fromPrice: string; toPrice: string }[];
};
export type FakeMeter = { id: string; eventName: string; displayName: string; status: string };

export type StripeFake = {
  url: string;
  port: number;
  /** The first accepted secret key. */
  apiKey: string;
  /** Customers not deleted whose metadata.tenant_id is this tenant. */
  customersFor(tenantId: string): FakeCustomer[];
  /** Subscriptions not canceled that belong to this tenant (by its customers or their own metadata). */
  liveSubscriptionsFor(tenantId: string): FakeSubscription[];
  meters(): FakeMeter[];
  /** Every request answered so far, oldest first (no credentials). */
  requests(): readonly RequestLogEntry[];
  /** The next `count` requests (whose path starts with `pathPrefix`) answer `status` in Stripe's error shape. */
  failNext(count: number, status: number, pathPrefix?: string): void;
  /**
   * The next `count` matching requests (path starting with `pathPrefix`, and
   * of `method` when given) are processed and committed as usual, but their
   * answer is sent only `ms` later: "Stripe did it, the caller never heard".
   */
  holdNext(count: number, ms: number, pathPrefix?: string, method?: string): void;
  /** Sends subscription events to this endpoint from now on (undefined: stop sending). */
  sendWebhooksTo(endpoint: WebhookEndpoint | undefined): void;
  /** Every webhook delivery attempt so far, oldest first. */
  webhookDeliveries(): readonly WebhookDelivery[];
  /** Adds a price to the catalogue; returns its id. */
  addPrice(price: FakePriceInput): string;
  close(): Promise<void>;
};

export const DEFAULT_STRIPE_FAKE_KEY = 'sk_test_local_emulator';

type PlanBilling = { billing: { priceRef: string; meters: readonly string[] } };

/**
 * Prices matching a plans catalogue, for the local profile: each plan's
 * priceRef as a price id (yearly when its name says annual), and one metered
 * monthly price per usage meter, with the meter's name as lookup key.
 */
export function pricesForPlans(plans: Readonly<Record<string, PlanBilling>>): FakePriceInput[] {
  const planPrices = new Map<string, FakePriceInput>();
  const meteredPrices = new Map<string, FakePriceInput>();
  for (const { billing } of Object.values(plans)) {
    const interval = /annual|year/i.test(billing.priceRef) ? 'year' : 'month';
    planPrices.set(billing.priceRef, { id: billing.priceRef, unit_amount: 10_000, recurring: { interval } });
    for (const meter of billing.meters) {
      meteredPrices.set(meter, { lookup_key: meter, recurring: { interval: 'month', usage_type: 'metered' } });
    }
  }
  return [...planPrices.values(), ...meteredPrices.values()];
}

type Failure = { left: number; status: number; pathPrefix: string };

export async function startStripeFake(opts: StripeFakeOptions = {}): Promise<StripeFake> {
  const apiKeys = opts.apiKeys ?? [DEFAULT_STRIPE_FAKE_KEY];
  const state = createState(opts.searchIndexDelayMs ?? 0);
  for (const price of opts.prices ?? []) addPrice(state, price);
  const idempotency = createIdempotencyStore();
  const log: RequestLogEntry[] = [];
  const failures: Failure[] = [];
  const holds = createHolds();
  const webhooks = createWebhookSender(state, opts.webhookEndpoint);

  /** Injected failures stand for the edge failing before the API runs, so nothing is saved under the key. */
  function takeFailure(path: string): number | undefined {
    const failure = failures.find((f) => f.left > 0 && path.startsWith(f.pathPrefix));
    if (failure === undefined) return undefined;
    failure.left -= 1;
    return failure.status;
  }

  /**
   * Runs the API call; whatever it changed in subscriptions goes out as webhook events, as on Stripe.
   * Subscriptions whose period ended with a cancellation set for it end first (the fake has no clock of its own).
   */
  function executeAndTell(route: (state: StripeState, params: FormObject) => unknown, params: FormObject) {
    const before = webhooks.snapshot();
    endDuePeriods(state);
    const result = execute(state, route, params);
    webhooks.emitChanges(before);
    return result;
  }

  function answer(req: IncomingMessage, body: string): Reply & { replayed: boolean } {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const apiKey = bearerKey(req.headers.authorization);
    if (apiKey === undefined || !apiKeys.includes(apiKey)) return { ...authenticationError(apiKey), headers: {}, replayed: false };
    const injected = takeFailure(url.pathname);
    if (injected !== undefined) return { status: injected, body: injectedError(injected), headers: {}, replayed: false };
    const route = findRoute(method, url.pathname);
    if (route === undefined) return { ...unrecognizedUrl(method, url.pathname), headers: {}, replayed: false };
    const params = parseForm(method === 'POST' ? body : url.search.slice(1));
    const key = header(req, 'idempotency-key');
    if (method !== 'POST' || key === undefined) return { ...executeAndTell(route, params).reply, replayed: false };
    if (key.length > MAX_KEY_LENGTH) {
      const error = StripeFakeError.validation(
        'idempotency_key_too_long',
        'Idempotency-Key',
        `Invalid idempotency key: must be at most ${MAX_KEY_LENGTH} characters.`,
      );
      return { status: 400, body: { error: error.body }, headers: {}, replayed: false };
    }
    const print = fingerprint(method, url.pathname, params);
    const saved = idempotency.find(apiKey, key);
    if (saved !== undefined) {
      if (saved.fingerprint !== print) return { ...idempotencyMismatch(key), headers: {}, replayed: false };
      return { ...saved.reply, headers: { 'Idempotent-Replayed': 'true', 'Original-Request': saved.requestId }, replayed: true };
    }
    const { reply, save } = executeAndTell(route, params);
    const requestId = newId('req', 14);
    if (save) idempotency.save(apiKey, key, { fingerprint: print, reply, requestId });
    return { ...reply, headers: { ...reply.headers, 'Request-Id': requestId }, replayed: false };
  }

  const server = createServer((req, res) => {
    const respond = async (body: string) => {
      await pause(opts.latency);
      const reply = answer(req, body);
      const method = req.method ?? 'GET';
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      log.push({ method, path, status: reply.status, idempotencyKey: header(req, 'idempotency-key'), replayed: reply.replayed });
      const heldMs = holds.take(method, path);
      if (heldMs === undefined) {
        await pause(opts.latency);
        return send(res, req, reply);
      }
      // A caller that died meanwhile has no one left to answer.
      holds.later(heldMs, () => {
        if (!res.destroyed && !req.socket.destroyed) send(res, req, reply);
      });
    };
    // A caller that went away before sending all of its request gets no answer.
    text(req).then(respond, () => res.destroy());
  });
  const port = await listenOnLoopback(server, opts.port);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey: apiKeys[0] ?? DEFAULT_STRIPE_FAKE_KEY,
    customersFor: (tenantId) => customersOf(state, tenantId).map(({ id, name, email, metadata }) => ({ id, name, email, metadata })),
    liveSubscriptionsFor: (tenantId) => liveSubscriptionsOf(state, tenantId),
    meters: () => [...state.meters.values()].map((m) => ({ id: m.id, eventName: m.eventName, displayName: m.displayName, status: m.status })),
    requests: () => log,
    failNext(count, status, pathPrefix = '/') {
      failures.push({ left: count, status, pathPrefix });
    },
    holdNext(count, ms, pathPrefix = '/', method) {
      holds.add(count, ms, pathPrefix, method);
    },
    sendWebhooksTo: (endpoint) => webhooks.setEndpoint(endpoint),
    webhookDeliveries: () => webhooks.deliveries(),
    addPrice: (price) => addPrice(state, price).id,
    close: () =>
      new Promise<void>((resolve) => {
        holds.dropAll();
        webhooks.close();
        server.close(() => resolve());
        // The SDK keeps connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

function execute(
  state: StripeState,
  route: (state: StripeState, params: FormObject) => unknown,
  params: FormObject,
): { reply: Reply; save: boolean } {
  try {
    return { reply: { status: 200, body: route(state, params), headers: {} }, save: true };
  } catch (err) {
    if (err instanceof StripeFakeError) {
      return { reply: { status: err.status, body: { error: err.body }, headers: {} }, save: err.stage === 'execution' };
    }
    return { reply: { status: 500, body: injectedError(500), headers: {} }, save: false };
  }
}

function customersOf(state: StripeState, tenantId: string) {
  return [...state.customers.values()].filter((c) => !c.deleted && c.metadata['tenant_id'] === tenantId);
}

function liveSubscriptionsOf(state: StripeState, tenantId: string): FakeSubscription[] {
  const tenantCustomers = new Set([...state.customers.values()].filter((c) => c.metadata['tenant_id'] === tenantId).map((c) => c.id));
  return [...state.subscriptions.values()]
    .filter((s) => s.status !== 'canceled' && (tenantCustomers.has(s.customer) || s.metadata['tenant_id'] === tenantId))
    .map((s) => ({
      id: s.id,
      customer: s.customer,
      status: s.status,
      priceIds: s.items.map((item) => item.price),
      trialEnd: s.trialEnd,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      cancelAt: s.cancelAt,
      metadata: s.metadata,
      prorations: s.prorations.map(({ fromPrice, toPrice }) => ({ fromPrice, toPrice })),
    }));
}

function bearerKey(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return match?.[1];
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, req: IncomingMessage, reply: Reply): void {
  // A caller that died while the answer waited has no one left to answer.
  if (res.destroyed) return;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Request-Id': newId('req', 14),
    'Stripe-Version': header(req, 'stripe-version') ?? '2026-10-28.endive',
    ...reply.headers,
  };
  const key = header(req, 'idempotency-key');
  if (key !== undefined) headers['Idempotency-Key'] = key;
  res.writeHead(reply.status, headers).end(JSON.stringify(reply.body));
}
