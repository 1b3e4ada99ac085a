/**
 * Drive a Bolt app in HTTP mode (`/slack/events`) the way Slack does: signed,
 * form-encoded slash commands and `payload=<json>` interactions.
 *
 * Signing (docs.slack.dev/authentication/verifying-requests-from-slack):
 *   X-Slack-Request-Timestamp: <unix seconds>
 *   X-Slack-Signature: v0=hex(HMAC_SHA256(signingSecret, `v0:${ts}:${rawBody}`))
 * Bolt rejects a timestamp older than 5 minutes with 401 (receivers/verify-request.js).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { BlockAction, ButtonAction, ViewStateValue, ViewSubmitAction } from '@slack/bolt';
import { FAKE_APP_ID, FAKE_BOT_ID, FAKE_BOT_USER_ID, FAKE_TEAM_DOMAIN, FAKE_TEAM_ID } from './slack-fake.ts';

/** Slack's deprecated verification token; Bolt ignores it but real payloads carry one. */
export const FAKE_VERIFICATION_TOKEN = 'fakeVerificationToken0001';

export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export type SignedRequestOptions = {
  url: string;
  signingSecret: string;
  body: string;
  /** Default `application/x-www-form-urlencoded`, as Slack sends commands and interactions. */
  contentType?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  headers?: Record<string, string>;
  /** Gives up waiting for the answer (e.g. AbortSignal.timeout). */
  signal?: AbortSignal;
};

export type SignedResponse = { status: number; body: string; ms: number };

export async function signedRequest(opts: SignedRequestOptions): Promise<SignedResponse> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(opts.url, {
    method: 'POST',
    headers: {
      'content-type': opts.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(opts.signingSecret, timestamp, opts.body),
      ...opts.headers,
    },
    body: opts.body,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - started };
}

export type SlashCommandOptions = {
  command: string;
  text: string;
  userId: string;
  userName: string;
  channelId: string;
  triggerId: string;
  /** Use `fake.responseUrl(...)` if the app calls `respond()`. */
  responseUrl?: string;
  channelName?: string;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
};

function fakeResponseUrl(kind: 'commands' | 'actions', teamId: string): string {
  return `https://hooks.slack.com/${kind}/${teamId}/${Date.now()}/${randomBytes(12).toString('hex')}`;
}

/** A slash command's fields, as Slack sends them (form-encoded over HTTP, an object in a Socket Mode envelope). */
export function slashCommandPayload(opts: SlashCommandOptions): Record<string, string> {
  const teamId = opts.teamId ?? FAKE_TEAM_ID;
  return {
    token: FAKE_VERIFICATION_TOKEN,
    team_id: teamId,
    team_domain: opts.teamDomain ?? FAKE_TEAM_DOMAIN,
    channel_id: opts.channelId,
    channel_name: opts.channelName ?? 'provisioning',
    user_id: opts.userId,
    user_name: opts.userName,
    command: opts.command,
    text: opts.text,
    api_app_id: opts.apiAppId ?? FAKE_APP_ID,
    is_enterprise_install: 'false',
    response_url: opts.responseUrl ?? fakeResponseUrl('commands', teamId),
    trigger_id: opts.triggerId,
  };
}

/** A slash command body exactly as Slack form-encodes it. */
export function slashCommandBody(opts: SlashCommandOptions): string {
  return new URLSearchParams(Object.entries(slashCommandPayload(opts))).toString();
}

/** An interaction body: form-encoded `payload=<json>`. */
export function interactionBody(payload: object): string {
  return new URLSearchParams([['payload', JSON.stringify(payload)]]).toString();
}

function actionTs(): string {
  const now = Date.now();
  return `${Math.floor(now / 1000)}.${String((now % 1000) * 1000).padStart(6, '0')}`;
}

export type BlockActionOptions = {
  userId: string;
  userName: string;
  actionId: string;
  value: string;
  triggerId: string;
  channelId: string;
  messageTs: string;
  threadTs?: string;
  blockId?: string;
  buttonText?: string;
  channelName?: string;
  responseUrl?: string;
  /** The message the button sits on (e.g. from `fake.message(...)`); default a minimal bot message. */
  message?: { text?: string; blocks?: unknown[] };
};

/** A `block_actions` payload for a button click on a message (docs.slack.dev/reference/interaction-payloads/block_actions-payload). */
export function blockActionPayload(opts: BlockActionOptions): BlockAction<ButtonAction> {
  const user = { id: opts.userId, username: opts.userName, name: opts.userName, team_id: FAKE_TEAM_ID };
  const container: Record<string, unknown> = {
    type: 'message',
    message_ts: opts.messageTs,
    channel_id: opts.channelId,
    is_ephemeral: false,
  };
  const message: { type: 'message'; ts: string; [key: string]: unknown } = {
    type: 'message',
    user: FAKE_BOT_USER_ID,
    ts: opts.messageTs,
    bot_id: FAKE_BOT_ID,
    app_id: FAKE_APP_ID,
    text: opts.message?.text ?? '',
    blocks: opts.message?.blocks ?? [],
    team: FAKE_TEAM_ID,
  };
  if (opts.threadTs !== undefined) {
    container['thread_ts'] = opts.threadTs;
    message['thread_ts'] = opts.threadTs;
  }
  return {
    type: 'block_actions',
    user,
    api_app_id: FAKE_APP_ID,
    token: FAKE_VERIFICATION_TOKEN,
    container,
    trigger_id: opts.triggerId,
    team: { id: FAKE_TEAM_ID, domain: FAKE_TEAM_DOMAIN },
    is_enterprise_install: false,
    channel: { id: opts.channelId, name: opts.channelName ?? 'provisioning' },
    message,
    state: { values: {} },
    response_url: opts.responseUrl ?? fakeResponseUrl('actions', FAKE_TEAM_ID),
    actions: [
      {
        type: 'button',
        action_id: opts.actionId,
        block_id: opts.blockId ?? 'actions',
        text: { type: 'plain_text', text: opts.buttonText ?? opts.actionId, emoji: true },
        value: opts.value,
        action_ts: actionTs(),
      },
    ],
  };
}

export type ViewSubmissionOptions = {
  userId: string;
  userName: string;
  callbackId: string;
  privateMetadata: string;
  /** `state.values`: block_id → action_id → value; a plain string means a `plain_text_input` value. */
  values: Record<string, Record<string, ViewStateValue | string>>;
  viewId?: string;
  hash?: string;
  triggerId?: string;
  title?: string;
  blocks?: ViewSubmitAction['view']['blocks'];
};

/** A `view_submission` payload (docs.slack.dev/reference/interaction-payloads/view-interactions-payload). */
export function viewSubmissionPayload(opts: ViewSubmissionOptions): ViewSubmitAction {
  const values: Record<string, Record<string, ViewStateValue>> = {};
  for (const [blockId, actions] of Object.entries(opts.values)) {
    const out: Record<string, ViewStateValue> = {};
    for (const [actionId, v] of Object.entries(actions)) out[actionId] = typeof v === 'string' ? { type: 'plain_text_input', value: v } : v;
    values[blockId] = out;
  }
  const viewId = opts.viewId ?? `V${randomBytes(5).toString('hex').toUpperCase()}`;
  const user = { id: opts.userId, username: opts.userName, name: opts.userName, team_id: FAKE_TEAM_ID };
  return {
    type: 'view_submission',
    team: { id: FAKE_TEAM_ID, domain: FAKE_TEAM_DOMAIN },
    user,
    api_app_id: FAKE_APP_ID,
    token: FAKE_VERIFICATION_TOKEN,
    trigger_id: opts.triggerId ?? `${Date.now()}.1.${randomBytes(8).toString('hex')}`,
    view: {
      id: viewId,
      team_id: FAKE_TEAM_ID,
      type: 'modal',
      blocks: opts.blocks ?? [],
      private_metadata: opts.privateMetadata,
      callback_id: opts.callbackId,
      state: { values },
      hash: opts.hash ?? `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      title: { type: 'plain_text', text: opts.title ?? 'Provision', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: { type: 'plain_text', text: 'Cancel', emoji: true },
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: FAKE_APP_ID,
      external_id: '',
      app_installed_team_id: FAKE_TEAM_ID,
      bot_id: FAKE_BOT_ID,
    },
    response_urls: [],
    is_enterprise_install: false,
  };
}
