/**
 * The Stripe fake, driven by the official SDK (and by raw HTTP where the SDK
 * hides the wire): idempotency as Stripe documents it, auth, errors, search,
 * lists and the shapes the SDK turns into its error classes.
 */
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStripeFake, type StripeFake } from '../../src/emulators/stripe-fake.ts';

const SECOND_KEY = 'sk_test_second_account_key';

describe('the Stripe fake answers the SDK like Stripe', () => {
  let fake: StripeFake;
  let stripe: Stripe;

  beforeEach(async () => {
    fake = await startStripeFake({
      apiKeys: ['sk_test_local_emulator', SECOND_KEY],
      prices: [
        { id: 'price_plan', lookup_key: 'plan_monthly', unit_amount: 5000, recurring: { interval: 'month' } },
        { lookup_key: 'api_calls', recurring: { interval: 'month', usage_type: 'metered' } },
      ],
    });
    stripe = client(fake.apiKey);
  });
  afterEach(() => fake.close());

  async function until(done: () => boolean): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the fake');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  function client(key: string): Stripe {
    return new Stripe(key, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
  }

  /** `key: null` sends no Authorization header at all. */
  function rawGet(path: string, key: string | null = fake.apiKey): Promise<Response> {
    return fetch(`${fake.url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  }

  it('replays the first response for the same idempotency key and parameters', async () => {
    const params = { name: 'Acme', metadata: { tenant_id: 'tnt_replay' } };
    const first = await stripe.customers.create(params, { idempotencyKey: 'job-1.billing.customer' });
    const again = await stripe.customers.create(params, { idempotencyKey: 'job-1.billing.customer' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(fake.customersFor('tnt_replay')).toHaveLength(1);
  });

  it('refuses an idempotency key reused with different parameters, with idempotency_error', async () => {
    await stripe.customers.create({ name: 'Acme' }, { idempotencyKey: 'job-2.billing.customer' });
    const failure = await stripe.customers.create({ name: 'Globex' }, { idempotencyKey: 'job-2.billing.customer' }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(failure).toMatchObject({
      statusCode: 400,
      rawType: 'idempotency_error',
      message: expect.stringMatching(/^Keys for idempotent requests can only be used with the same parameters they were first used with/),
    });
  });

  it('scopes idempotency keys per API key', async () => {
    const first = await stripe.customers.create({ name: 'Acme' }, { idempotencyKey: 'shared-key' });
    const other = await client(SECOND_KEY).customers.create({ name: 'Acme' }, { idempotencyKey: 'shared-key' });
    expect(other.id).not.toBe(first.id);
  });

  it('replays an error the endpoint returned, but not a request refused while validating its parameters', async () => {
    const customer = await stripe.customers.create({ name: 'Acme' });
    const missingPrice = { customer: customer.id, items: [{ price: 'price_gone' }] };
    const first = await stripe.subscriptions.create(missingPrice, { idempotencyKey: 'sub-key' }).catch((err: unknown) => err);
    expect(first).toMatchObject({ code: 'resource_missing', param: 'items[0][price]', message: "No such price: 'price_gone'" });
    fake.addPrice({ id: 'price_gone', unit_amount: 100, recurring: { interval: 'month' } });
    const replayed = await stripe.subscriptions.create(missingPrice, { idempotencyKey: 'sub-key' }).catch((err: unknown) => err);
    expect(replayed).toMatchObject({ code: 'resource_missing', headers: expect.objectContaining({ 'idempotent-replayed': 'true' }) });

    const invalid = await stripe.subscriptions
      .create({ customer: customer.id, items: [] }, { idempotencyKey: 'other-key' })
      .catch((err: unknown) => err);
    expect(invalid).toMatchObject({ code: 'parameter_missing', param: 'items' });
    const valid = await stripe.subscriptions.create(
      { customer: customer.id, items: [{ price: 'price_plan' }], collection_method: 'send_invoice', days_until_due: 30 },
      { idempotencyKey: 'other-key2' },
    );
    expect(valid.status).toBe('active');
  });

  it('answers 401 with a masked key for a wrong key, and asks for one when none is sent', async () => {
    const failure = await client('sk_test_wrongKey0000abcd')
      .customers.create({ name: 'x' })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(failure).toHaveProperty('message', 'Invalid API Key provided: sk_test_************abcd');
    const none = await rawGet('/v1/customers/search?query=x', null);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringMatching(/^You did not provide an API key/) },
    });
  });

  it('parses bracket notation: nested metadata, indexed items and "[]" lists', async () => {
    const response = await rawGet('/v1/prices?lookup_keys[]=plan_monthly&lookup_keys[]=api_calls');
    const body: unknown = await response.json();
    expect(body).toMatchObject({
      object: 'list',
      data: [expect.objectContaining({ lookup_key: 'api_calls' }), expect.objectContaining({ id: 'price_plan' })],
    });
    const customer = await stripe.customers.create({ metadata: { tenant_id: 'tnt_a', note: 'a&b=c [x]' } });
    expect(customer.metadata).toEqual({ tenant_id: 'tnt_a', note: 'a&b=c [x]' });
  });

  it('finds customers by metadata and email with the search query language, and refuses what it cannot read', async () => {
    await stripe.customers.create({ email: 'a@acme.example.com', metadata: { tenant_id: 'tnt_search' } });
    await stripe.customers.create({ email: 'b@acme.example.com', metadata: { tenant_id: 'tnt_search' } });
    const both = await stripe.customers.search({ query: "metadata['tenant_id']:'tnt_search'" });
    expect(both.data).toHaveLength(2);
    const one = await stripe.customers.search({ query: `metadata["tenant_id"]:"tnt_search" AND email:'b@acme.example.com'` });
    expect(one.data.map((c) => c.email)).toEqual(['b@acme.example.com']);
    await expect(stripe.customers.search({ query: 'tenant_id = tnt_search' })).rejects.toMatchObject({ param: 'query', statusCode: 400 });
  });

  it('deleting a customer cancels its subscriptions; the deleted customer is still retrievable, a second delete is "No such customer"', async () => {
    const customer = await stripe.customers.create({ metadata: { tenant_id: 'tnt_del' } });
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_plan' }], trial_end: Math.floor(Date.now() / 1000) + 3600 });
    expect(fake.liveSubscriptionsFor('tnt_del')).toHaveLength(1);
    await stripe.customers.del(customer.id);
    expect(fake.liveSubscriptionsFor('tnt_del')).toEqual([]);
    expect(await stripe.customers.retrieve(customer.id)).toMatchObject({ id: customer.id, deleted: true });
    await expect(stripe.customers.del(customer.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('a subscription charged by card with nothing on file is incomplete; lists hide canceled ones unless asked', async () => {
    const customer = await stripe.customers.create({});
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_plan' }] });
    expect(subscription.status).toBe('incomplete');
    await stripe.subscriptions.cancel(subscription.id);
    await expect(stripe.subscriptions.cancel(subscription.id)).rejects.toMatchObject({
      statusCode: 404,
      message: `No such subscription: '${subscription.id}'`,
    });
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(1);
  });

  it('moves a subscription item to another price with proration, and refuses what Stripe refuses', async () => {
    const customer = await stripe.customers.create({ name: 'Acme', metadata: { tenant_id: 'tnt_move' } });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_plan' }],
      collection_method: 'send_invoice',
      days_until_due: 30,
    });
    const [item] = subscription.items.data;
    if (!item) throw new Error('no item');

    // The SDK's types allow only Stripe's three behaviours: an unknown one goes over the wire by hand.
    const wrong = await fetch(`${fake.url}/v1/subscription_items/${item.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'proration_behavior=sometimes',
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'proration_behavior' } });
    await expect(stripe.subscriptionItems.update(item.id, { price: 'price_missing' })).rejects.toMatchObject({
      code: 'resource_missing',
      param: 'price',
    });
    await expect(stripe.subscriptionItems.update('si_nothing', { price: 'price_plan' })).rejects.toMatchObject({ code: 'resource_missing' });

    const metered = (await stripe.prices.list({ lookup_keys: ['api_calls'] })).data[0]?.id ?? '';
    const moved = await stripe.subscriptionItems.update(item.id, { price: metered, proration_behavior: 'create_prorations' });
    expect(moved).toMatchObject({ id: item.id, object: 'subscription_item', price: { id: metered }, subscription: subscription.id });
    await stripe.subscriptionItems.update(item.id, { price: 'price_plan', proration_behavior: 'none' });
    expect(fake.liveSubscriptionsFor('tnt_move')).toMatchObject([
      { priceIds: ['price_plan'], prorations: [{ fromPrice: 'price_plan', toPrice: metered }] },
    ]);
  });

  it('pages lists newest first, and the SDK auto-pagination walks them', async () => {
    for (const name of ['a', 'b', 'c']) {
      await stripe.billing.meters.create({ display_name: name, event_name: name, default_aggregation: { formula: 'sum' } });
    }
    const firstPage = await stripe.billing.meters.list({ limit: 2 });
    expect(firstPage.data.map((m) => m.event_name)).toEqual(['c', 'b']);
    expect(firstPage.has_more).toBe(true);
    const all: string[] = [];
    for await (const meter of stripe.billing.meters.list({ limit: 1 })) all.push(meter.event_name);
    expect(all).toEqual(['c', 'b', 'a']);
  });

  it('injected failures hit only matching paths and use the SDK error classes for 429 and 500', async () => {
    fake.failNext(1, 429, '/v1/customers');
    await expect(stripe.prices.list()).resolves.toMatchObject({ object: 'list' });
    await expect(stripe.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    fake.failNext(1, 500);
    await expect(stripe.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    await expect(stripe.customers.create({})).resolves.toMatchObject({ object: 'customer' });
  });

  it('a held request is committed at once but answered late; a caller that gave up meanwhile still left the customer', async () => {
    fake.holdNext(1, 400, '/v1/customers', 'POST');
    const started = Date.now();
    let answered = false;
    const creating = stripe.customers.create({ metadata: { tenant_id: 'tnt_held' } }).finally(() => (answered = true));
    await until(() => fake.customersFor('tnt_held').length === 1);
    // Committed and searchable (a GET is not held), while the caller still waits.
    expect((await stripe.customers.search({ query: "metadata['tenant_id']:'tnt_held'" })).data).toHaveLength(1);
    expect(answered).toBe(false);
    const customer = await creating;
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(fake.customersFor('tnt_held').map((c) => c.id)).toEqual([customer.id]);

    fake.holdNext(1, 200, '/v1/customers');
    const gaveUp = new AbortController();
    const abandoned = fetch(`${fake.url}/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'metadata[tenant_id]=tnt_gone_caller',
      signal: gaveUp.signal,
    }).catch((err: unknown) => err);
    await until(() => fake.customersFor('tnt_gone_caller').length === 1);
    gaveUp.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    await new Promise((resolve) => setTimeout(resolve, 250));
    // The late answer found no one and the fake carries on.
    await expect(stripe.customers.create({})).resolves.toMatchObject({ object: 'customer' });
  });

  it('refuses unknown parameters and unknown URLs the way Stripe does', async () => {
    const unknownParam = await fetch(`${fake.url}/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x&nickname=y',
    });
    expect(unknownParam.status).toBe(400);
    expect(await unknownParam.json()).toMatchObject({
      error: { code: 'parameter_unknown', param: 'nickname', message: 'Received unknown parameter: nickname' },
    });
    const unknownUrl = await rawGet('/v1/widgets');
    expect(unknownUrl.status).toBe(404);
    expect(await unknownUrl.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('Unrecognized request URL (GET: /v1/widgets)') },
    });
  });
});
