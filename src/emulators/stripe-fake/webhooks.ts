/**
 * The Stripe fake's webhook endpoint: when subscriptions change it sends
 * events the way Stripe does — a POST of the event JSON to the configured
 * URL, signed `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" keyed with the endpoint secret>`, asynchronously after the API
 * call answered, and retried with growing delays until a 2xx (Stripe retries
 * for up to three days; the fake's delays are configurable, a few by default).
 */
import { createHmac } from 'node:crypto';
import { newId, type StripeState } from './state.ts';
import { renderSubscription } from './subscriptions.ts';

export type WebhookEndpoint = { url: string; secret: string; retryDelaysMs?: readonly number[] };

export type WebhookDelivery = { eventId: string; type: string; attempt: number; status: number | 'network-error' };

/** Stripe's own scheme: `t=…,v1=…` over "<t>.<payload>". */
export function stripeSignatureHeader(payload: string, secret: string, timestampS = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestampS}.${payload}`).digest('hex');
  return `t=${timestampS},v1=${v1}`;
}

const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 25_000];

type Snapshot = Map<string, { status: string; json: string }>;

export type WebhookSender = {
  setEndpoint(endpoint: WebhookEndpoint | undefined): void;
  /** The subscriptions before a request, to tell afterwards what changed. */
  snapshot(): Snapshot;
  /** Sends an event for each subscription created, changed or deleted since the snapshot. */
  emitChanges(before: Snapshot): void;
  deliveries(): readonly WebhookDelivery[];
  close(): void;
};

export function createWebhookSender(state: StripeState, initial?: WebhookEndpoint): WebhookSender {
  let endpoint = initial;
  const log: WebhookDelivery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const render = (id: string) => {
    const record = state.subscriptions.get(id);
    return record ? renderSubscription(state, record) : undefined;
  };

  function typeOf(before: { status: string } | undefined, status: string): string {
    if (before === undefined) return 'customer.subscription.created';
    if (status === 'canceled' && before.status !== 'canceled') return 'customer.subscription.deleted';
    if (status === 'paused' && before.status !== 'paused') return 'customer.subscription.paused';
    if (before.status === 'paused' && status !== 'paused') return 'customer.subscription.resumed';
    return 'customer.subscription.updated';
  }

  function send(target: WebhookEndpoint, eventId: string, type: string, payload: string, attempt: number): void {
    if (closed) return;
    const delays = target.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const retry = () => {
      const delay = delays[attempt - 1];
      if (delay === undefined || closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(target, eventId, type, payload, attempt + 1);
      }, delay);
      timers.add(timer);
    };
    // Signed at each attempt, as Stripe does: a retry carries a fresh timestamp.
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'stripe-signature': stripeSignatureHeader(payload, target.secret),
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    };
    fetch(target.url, { method: 'POST', body: payload, headers, signal: AbortSignal.timeout(10_000) })
      .then(async (response) => {
        await response.arrayBuffer().catch(() => undefined);
        log.push({ eventId, type, attempt, status: response.status });
        if (response.status < 200 || response.status >= 300) retry();
      })
      .catch(() => {
        log.push({ eventId, type, attempt, status: 'network-error' });
        retry();
      });
  }

  return {
    setEndpoint(next) {
      endpoint = next;
    },
    snapshot() {
      const snap: Snapshot = new Map();
      for (const [id, record] of state.subscriptions) snap.set(id, { status: record.status, json: JSON.stringify(render(id)) });
      return snap;
    },
    emitChanges(before) {
      const target = endpoint;
      if (!target) return;
      for (const [id, record] of state.subscriptions) {
        const object = render(id);
        const json = JSON.stringify(object);
        const was = before.get(id);
        if (was?.json === json) continue;
        const type = typeOf(was, record.status);
        const event = {
          id: newId('evt'),
          object: 'event',
          api_version: '2026-10-28.endive',
          created: Math.floor(Date.now() / 1000),
          data: { object, ...(was ? { previous_attributes: previousAttributes(was.json, object) } : {}) },
          livemode: false,
          pending_webhooks: 1,
          request: { id: null, idempotency_key: null },
          type,
        };
        send(target, event.id, type, JSON.stringify(event), 1);
      }
    },
    deliveries: () => log,
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

/** Stripe's `previous_attributes`: the earlier value of each top-level field the change touched. */
function previousAttributes(beforeJson: string, after: Record<string, unknown> | undefined): Record<string, unknown> {
  const before: unknown = JSON.parse(beforeJson);
  if (before === null || typeof before !== 'object' || after === undefined) return {};
  const previous: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(before)) {
    if (JSON.stringify(value) !== JSON.stringify(after[key])) previous[key] = value;
  }
  return previous;
}
