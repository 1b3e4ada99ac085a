/**
 * Proves the Slack fake against the REAL @slack/web-api WebClient and a real
 * Bolt App in HTTP mode: requests go over loopback HTTP, nothing is stubbed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App, LogLevel } from '@slack/bolt';
import { WebSocket } from 'ws';
import { ErrorCode, retryPolicies, WebClient, WebClientEvent, type ModalView } from '@slack/web-api';
import { SlackFake } from '../support/slack-fake.ts';
import { blockActionPayload, interactionBody, signedRequest, slashCommandBody, viewSubmissionPayload } from '../support/slack-signing.ts';

const TOKEN = 'xoxb-test-token';
const CHANNEL = 'C0PROVISION';

function modal(blocks: number): ModalView {
  return {
    type: 'modal',
    callback_id: 'provision_modal',
    title: { type: 'plain_text', text: 'Provision tenant' },
    submit: { type: 'plain_text', text: 'Create' },
    blocks: Array.from({ length: blocks }, (_, i) => ({
      type: 'input',
      block_id: `b${i}`,
      label: { type: 'plain_text', text: `Field ${i}` },
      element: { type: 'plain_text_input', action_id: 'value' },
    })),
  };
}

function plain(text: string): { type: 'plain_text'; text: string } {
  return { type: 'plain_text', text };
}

function section(text: string): { type: 'section'; text: { type: 'mrkdwn'; text: string } } {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** The rejection of a promise (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );
}

describe('SlackFake with the real WebClient', () => {
  let fake: SlackFake;
  let client: WebClient;

  beforeAll(async () => {
    fake = await SlackFake.start({
      botToken: TOKEN,
      users: { U0ALICE: { name: 'alice', realName: 'Alice Doe' }, U0BOB: { name: 'bob' } },
      usergroups: { S0APPROVERS: ['U0ALICE', 'U0BOB'] },
    });
    client = new WebClient(TOKEN, { slackApiUrl: fake.url, retryConfig: retryPolicies.rapidRetryPolicy, logLevel: LogLevel.ERROR });
  });
  afterEach(() => fake.reset());
  afterAll(async () => fake.close());

  it('answers auth.test like Slack', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, team_id: fake.teamId, user_id: fake.botUserId, bot_id: fake.botId });
    expect(res.url).toMatch(/^https:\/\/.+\.slack\.com\/$/);
  });

  it('posts, updates, threads and ephemerals; records parsed form args', async () => {
    const posted = await client.chat.postMessage({ channel: CHANNEL, text: 'Provisioning acme', blocks: [section('*acme*: queued')] });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toBe(CHANNEL);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message?.text).toBe('Provisioning acme');
    const ts = posted.ts ?? '';

    // The WebClient sent form-encoded blocks as a JSON string; the fake parsed it.
    expect(fake.callsTo('chat.postMessage')[0]?.args['blocks']).toEqual([section('*acme*: queued')]);

    const updated = await client.chat.update({ channel: CHANNEL, ts, text: 'Provisioning acme', blocks: [section('*acme*: running')] });
    expect(updated).toMatchObject({ ok: true, channel: CHANNEL, ts });

    const reply1 = await client.chat.postMessage({ channel: CHANNEL, thread_ts: ts, text: 'dns: done' });
    const reply2 = await client.chat.postMessage({ channel: CHANNEL, thread_ts: ts, text: 'stripe: done' });
    expect(reply1.message?.thread_ts).toBe(ts);
    expect((reply1.ts ?? '') < (reply2.ts ?? '')).toBe(true);
    expect(reply1.ts).not.toBe(ts);

    const eph = await client.chat.postEphemeral({ channel: CHANNEL, user: 'U0ALICE', text: 'only you can see this' });
    expect(eph.ok).toBe(true);
    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);

    const msgs = fake.messages(CHANNEL);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ ts, text: 'Provisioning acme', blocks: [section('*acme*: running')], updates: 1 });
    expect(msgs[0]?.versions).toEqual([{ text: 'Provisioning acme', blocks: [section('*acme*: queued')] }]);
    expect(msgs[0]?.replies.map((r) => r.text)).toEqual(['dns: done', 'stripe: done']);
    expect(fake.ephemerals(CHANNEL)).toMatchObject([{ user: 'U0ALICE', text: 'only you can see this', message_ts: eph.message_ts }]);

    const missing = await rejection(client.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' }));
    expect(missing).toMatchObject({ code: ErrorCode.PlatformError, data: { ok: false, error: 'message_not_found' } });
  });

  it('views.open works once per fresh trigger: reuse → exchanged_trigger_id, stale → expired_trigger_id, unknown → invalid_trigger_id', async () => {
    const trigger = fake.issueTrigger();
    const opened = await client.views.open({
      trigger_id: trigger,
      view: { type: 'modal', title: { type: 'plain_text', text: 'Provision' }, blocks: [] },
    });
    expect(opened.ok).toBe(true);
    expect(opened.view?.id).toMatch(/^V/);
    expect(opened.view?.hash).toBeTruthy();

    const reused = await rejection(
      client.views.open({ trigger_id: trigger, view: { type: 'modal', title: { type: 'plain_text', text: 'Again' }, blocks: [] } }),
    );
    expect(reused).toMatchObject({ code: ErrorCode.PlatformError, data: { ok: false, error: 'exchanged_trigger_id' } });

    const stale = await rejection(
      client.views.open({
        trigger_id: fake.issueTrigger({ ageMs: 3_500 }),
        view: { type: 'modal', title: { type: 'plain_text', text: 'Late' }, blocks: [] },
      }),
    );
    expect(stale).toMatchObject({ data: { error: 'expired_trigger_id' } });

    const unknown = await rejection(
      client.views.open({ trigger_id: '123.456.abc', view: { type: 'modal', title: { type: 'plain_text', text: 'Who' }, blocks: [] } }),
    );
    expect(unknown).toMatchObject({ data: { error: 'invalid_trigger_id' } });

    // views.update by id, with the hash guard.
    const id = opened.view?.id ?? '';
    const hash = opened.view?.hash ?? '';
    const upd = await client.views.update({
      view_id: id,
      hash,
      view: { type: 'modal', title: { type: 'plain_text', text: 'Working…' }, blocks: [] },
    });
    expect(upd.view?.title?.text).toBe('Working…');
    const conflict = await rejection(
      client.views.update({ view_id: id, hash, view: { type: 'modal', title: { type: 'plain_text', text: 'Old hash' }, blocks: [] } }),
    );
    expect(conflict).toMatchObject({ data: { error: 'hash_conflict' } });
    expect(fake.view(id)?.updates).toBe(1);
  });

  it('enforces Block Kit limits like Slack', async () => {
    const tooMany = await rejection(
      client.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: Array.from({ length: 51 }, (_, i) => section(`row ${i}`)) }),
    );
    expect(tooMany).toMatchObject({ code: ErrorCode.PlatformError, data: { ok: false, error: 'invalid_blocks' } });
    expect(tooMany).toMatchObject({ data: { response_metadata: { messages: ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]'] } } });

    await expect(
      client.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: Array.from({ length: 50 }, (_, i) => section(`row ${i}`)) }),
    ).resolves.toMatchObject({ ok: true });

    const longSection = await rejection(client.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: [section('a'.repeat(3001))] }));
    expect(longSection).toMatchObject({
      data: {
        error: 'invalid_blocks',
        response_metadata: { messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]'] },
      },
    });

    const bigModal = await rejection(
      client.views.open({ trigger_id: fake.issueTrigger(), view: { ...modal(101), title: { type: 'plain_text', text: 'Big' } } }),
    );
    expect(bigModal).toMatchObject({
      data: { error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]'] } },
    });
    await expect(
      client.views.open({ trigger_id: fake.issueTrigger(), view: { ...modal(100), title: { type: 'plain_text', text: 'Max' } } }),
    ).resolves.toMatchObject({ ok: true });

    const noText = await rejection(client.apiCall('chat.postMessage', { channel: CHANNEL }));
    expect(noText).toMatchObject({ data: { error: 'no_text' } });
    expect(fake.messages(CHANNEL)).toHaveLength(1);
  });

  it('checks every text in the blocks of every method that carries them, as Slack does', async () => {
    const context = { type: 'context' as const, elements: [{ type: 'mrkdwn' as const, text: 'c'.repeat(3001) }] };
    const ephemeral = await rejection(client.chat.postEphemeral({ channel: CHANNEL, user: 'U0ALICE', text: 'x', blocks: [context] }));
    expect(ephemeral).toMatchObject({
      data: {
        error: 'invalid_blocks',
        response_metadata: { messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/elements/0/text]'] },
      },
    });

    const posted = await client.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: [section('ok')] });
    const confirm = { title: plain('Sure?'), text: plain('t'.repeat(301)), confirm: plain('Yes'), deny: plain('No') };
    const button = { type: 'button' as const, action_id: 'go', text: plain('Go'), confirm };
    const update = await rejection(
      client.chat.update({ channel: CHANNEL, ts: posted.ts ?? '', text: 'x', blocks: [{ type: 'actions', elements: [button] }] }),
    );
    expect(update).toMatchObject({
      data: {
        error: 'invalid_blocks',
        response_metadata: { messages: ['[ERROR] must be less than 301 characters [json-pointer:/blocks/0/elements/0/confirm/text/text]'] },
      },
    });
    const empty = await rejection(client.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: [section('')] }));
    expect(empty).toMatchObject({ data: { error: 'invalid_blocks', errors: ['must be more than 0 characters [json-pointer:/blocks/0/text/text]'] } });

    const respond = await fetch(fake.responseUrl({ channel: CHANNEL, userId: 'U0ALICE' }), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x', blocks: [section('r'.repeat(3001))] }),
    });
    expect(respond.status).toBe(400);
    expect(await respond.json()).toMatchObject({ ok: false, error: 'invalid_blocks' });

    const opened = await client.views.open({ trigger_id: fake.issueTrigger(), view: modal(1) });
    const longPlaceholder = modal(1);
    longPlaceholder.blocks = [
      { type: 'input', label: plain('Field'), element: { type: 'plain_text_input', action_id: 'v', placeholder: plain('p'.repeat(151)) } },
    ];
    const updateView = await rejection(client.views.update({ view_id: opened.view?.id ?? '', view: longPlaceholder }));
    expect(updateView).toMatchObject({
      data: {
        error: 'invalid_arguments',
        response_metadata: { messages: ['[ERROR] must be less than 151 characters [json-pointer:/view/blocks/0/element/placeholder/text]'] },
      },
    });
    expect(fake.ephemerals()).toEqual([]);
  });

  it('Socket Mode: apps.connections.open takes only the app-level token, and its URL works once', async () => {
    const app = new WebClient(undefined, { slackApiUrl: fake.url, headers: { Authorization: `Bearer ${fake.appToken}` }, logLevel: LogLevel.ERROR });
    const opened = await app.apps.connections.open();
    expect(opened.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=\w+&app_id=A0FAKEAPP01$/);
    await expect(rejection(client.apiCall('apps.connections.open'))).resolves.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    await expect(rejection(app.chat.postMessage({ channel: CHANNEL, text: 'x' }))).resolves.toMatchObject({
      data: { error: 'not_allowed_token_type' },
    });

    const first = new WebSocket(opened.url ?? '');
    const hello = await new Promise<unknown>((resolve) => first.once('message', (data) => resolve(JSON.parse(data.toString()))));
    expect(hello).toMatchObject({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0FAKEAPP01' } });
    const again = new WebSocket(opened.url ?? '');
    const refused = await new Promise<string>((resolve) => again.once('unexpected-response', (_req, res) => resolve(String(res.statusCode))));
    expect(refused).toBe('403');
    first.close();
  });

  it('a 429 with Retry-After 1 is retried by the WebClient after ≥ 1 s', async () => {
    fake.rateLimit('chat.postMessage', { times: 1, retryAfterS: 1 });
    const seen: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (retryAfterS: number) => seen.push(retryAfterS));
    const started = Date.now();
    const res = await client.chat.postMessage({ channel: CHANNEL, text: 'after the limit' });
    const elapsed = Date.now() - started;
    client.removeAllListeners(WebClientEvent.RATE_LIMITED);

    expect(res.ok).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(seen).toEqual([1]);
    expect(fake.rateLimited).toBe(1);
    expect(fake.callsTo('chat.postMessage').map((c) => [c.status, c.error])).toEqual([
      [429, 'ratelimited'],
      [200, undefined],
    ]);
    expect(fake.messages(CHANNEL)).toHaveLength(1);
  });

  it('the steady per-channel limiter 429s bursts and the WebClient rides through', async () => {
    fake.limitPerSecond('chat.postMessage', 2);
    const started = Date.now();
    const results = await Promise.all([1, 2, 3].map((i) => client.chat.postMessage({ channel: CHANNEL, text: `burst ${i}` })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.rateLimited).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // Another channel has its own budget.
    await expect(client.chat.postMessage({ channel: 'C0OTHER', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(
      fake
        .messages(CHANNEL)
        .map((m) => m.text)
        .sort(),
    ).toEqual(['burst 1', 'burst 2', 'burst 3']);
  });

  it('failNext injects a Slack error code once', async () => {
    fake.failNext('chat.postMessage', 'channel_not_found');
    const err = await rejection(client.chat.postMessage({ channel: CHANNEL, text: 'x' }));
    expect(err).toMatchObject({ code: ErrorCode.PlatformError, data: { ok: false, error: 'channel_not_found' } });
    await expect(client.chat.postMessage({ channel: CHANNEL, text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('users.info and usergroups.users.list come from the options', async () => {
    const alice = await client.users.info({ user: 'U0ALICE' });
    expect(alice.user).toMatchObject({
      id: 'U0ALICE',
      name: 'alice',
      real_name: 'Alice Doe',
      profile: { real_name: 'Alice Doe', display_name: 'alice' },
    });
    expect(await rejection(client.users.info({ user: 'U0NOBODY' }))).toMatchObject({ data: { error: 'user_not_found' } });

    const group = await client.usergroups.users.list({ usergroup: 'S0APPROVERS' });
    expect(group.users).toEqual(['U0ALICE', 'U0BOB']);
    expect(await rejection(client.usergroups.users.list({ usergroup: 'S0NONE' }))).toMatchObject({ data: { error: 'no_such_subteam' } });

    await expect(client.conversations.join({ channel: CHANNEL })).resolves.toMatchObject({ ok: true, channel: { id: CHANNEL } });
  });

  it('rejects a wrong token with invalid_auth and an unknown method with unknown_method', async () => {
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: fake.url, retryConfig: retryPolicies.rapidRetryPolicy, logLevel: LogLevel.ERROR });
    expect(await rejection(wrong.auth.test())).toMatchObject({ code: ErrorCode.PlatformError, data: { ok: false, error: 'invalid_auth' } });
    expect(await rejection(client.apiCall('chat.nonsense', {}))).toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('accepts application/json bodies with a Bearer token, as Slack does', async () => {
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: CHANNEL, text: 'json', blocks: [section('json body')] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, channel: CHANNEL });
    expect(fake.messages(CHANNEL)[0]?.blocks).toEqual([section('json body')]);
  });
});

describe('SlackFake with a real Bolt App in HTTP mode', () => {
  const SECRET = 'test-signing-secret';
  let fake: SlackFake;
  let app: App;
  let eventsUrl: string;

  beforeAll(async () => {
    fake = await SlackFake.start({ botToken: TOKEN, users: { U0ALICE: { name: 'alice' } } });
    app = new App({
      token: TOKEN,
      signingSecret: SECRET,
      clientOptions: { slackApiUrl: fake.url, retryConfig: retryPolicies.rapidRetryPolicy },
      logLevel: LogLevel.ERROR,
    });
    app.command('/provision', async ({ ack, body, client, respond }) => {
      await ack();
      await client.views.open({ trigger_id: body.trigger_id, view: modal(1) });
      await respond({ text: `Opening the form for ${body.text}` });
    });
    app.action('approve', async ({ ack, body, client, action }) => {
      await ack();
      if (body.type !== 'block_actions' || action.type !== 'button' || !body.channel || !body.message) return;
      await client.chat.update({ channel: body.channel.id, ts: body.message.ts, text: `Approved ${action.value ?? ''} by <@${body.user.id}>` });
    });
    app.view('provision_modal', async ({ ack, view }) => {
      const name = view.state.values['b0']?.['value']?.value ?? '';
      if (!/^[a-z][a-z0-9-]*$/.test(name)) {
        await ack({ response_action: 'errors', errors: { b0: 'Lowercase letters, digits and dashes' } });
        return;
      }
      await ack();
    });
    // Bolt 5: HTTPReceiver.start() takes net.ListenOptions, so port 0 binds a random free port.
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
    eventsUrl = `http://127.0.0.1:${addr.port}/slack/events`;
  });
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });

  it('a signed slash command gets 200 at ack, then views.open reaches the fake; bad signatures and stale timestamps get 401', async () => {
    // The App fired auth.test from its constructor (tokenVerificationEnabled defaults to true),
    // without awaiting it: it may still be in flight when start() resolves.
    await fake.waitFor('auth.test');

    const responseUrl = fake.responseUrl({ channel: CHANNEL, userId: 'U0ALICE' });
    const body = slashCommandBody({
      command: '/provision',
      text: 'acme',
      userId: 'U0ALICE',
      userName: 'alice',
      channelId: CHANNEL,
      triggerId: fake.issueTrigger(),
      responseUrl,
    });
    const ok = await signedRequest({ url: eventsUrl, signingSecret: SECRET, body });
    expect(ok.status).toBe(200);
    expect(ok.ms).toBeLessThan(3_000);
    const [open] = await fake.waitFor('views.open');
    expect(open).toMatchObject({ ok: true, args: { view: { callback_id: 'provision_modal' } } });
    await expect.poll(() => fake.ephemerals(CHANNEL).map((e) => e.text)).toEqual(['Opening the form for acme']);

    const forged = await signedRequest({ url: eventsUrl, signingSecret: 'not-the-secret', body });
    expect(forged.status).toBe(401);
    const stale = await signedRequest({ url: eventsUrl, signingSecret: SECRET, body, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.callsTo('views.open')).toHaveLength(1);
  });

  it('routes block_actions and view_submission payloads built by the helpers', async () => {
    const posted = await app.client.chat.postMessage({ channel: CHANNEL, text: 'Approve acme?' });
    const ts = posted.ts ?? '';
    const click = interactionBody(
      blockActionPayload({
        userId: 'U0ALICE',
        userName: 'alice',
        actionId: 'approve',
        value: 'acme',
        triggerId: fake.issueTrigger(),
        channelId: CHANNEL,
        messageTs: ts,
      }),
    );
    expect((await signedRequest({ url: eventsUrl, signingSecret: SECRET, body: click })).status).toBe(200);
    await fake.waitFor('chat.update');
    expect(fake.message(CHANNEL, ts)?.text).toBe('Approved acme by <@U0ALICE>');

    const bad = await signedRequest({
      url: eventsUrl,
      signingSecret: SECRET,
      body: interactionBody(
        viewSubmissionPayload({
          userId: 'U0ALICE',
          userName: 'alice',
          callbackId: 'provision_modal',
          privateMetadata: '{}',
          values: { b0: { value: 'Not Valid' } },
        }),
      ),
    });
    expect(bad.status).toBe(200);
    expect(JSON.parse(bad.body)).toEqual({ response_action: 'errors', errors: { b0: 'Lowercase letters, digits and dashes' } });

    const good = await signedRequest({
      url: eventsUrl,
      signingSecret: SECRET,
      body: interactionBody(
        viewSubmissionPayload({
          userId: 'U0ALICE',
          userName: 'alice',
          callbackId: 'provision_modal',
          privateMetadata: '{}',
          values: { b0: { value: 'acme' } },
        }),
      ),
    });
    expect(good.status).toBe(200);
    expect(good.body).toBe('');
  });
});
