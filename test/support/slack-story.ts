/**
 * Small helpers shared by the Slack story tests: find buttons in a message,
 * click them, and fill the modals they open, the way Slack would.
 */
import type { ViewStateValue } from '@slack/bolt';
import { isRecord, type FakeMessage, type RecordedCall } from './slack-fake.ts';
import { CHANNEL, SIGNING_SECRET, type SlackTestApp } from './slack-app.ts';
import { blockActionPayload, interactionBody, signedRequest, viewSubmissionPayload, type SignedResponse } from './slack-signing.ts';

export type SlackUser = { id: string; name: string };

/** Button values (and their action ids) found anywhere in a message's blocks. */
export function buttonsIn(blocks: unknown): { actionId: string; value: string }[] {
  const found: { actionId: string; value: string }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) walk(child);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const type: unknown = Reflect.get(node, 'type');
    const actionId: unknown = Reflect.get(node, 'action_id');
    const value: unknown = Reflect.get(node, 'value');
    if (type === 'button' && typeof actionId === 'string' && typeof value === 'string') found.push({ actionId, value });
    Object.values(node).forEach(walk);
  };
  walk(blocks);
  return found;
}

export function hasButton(message: { blocks?: unknown[] } | undefined, actionId: string): boolean {
  return buttonsIn(message?.blocks).some((b) => b.actionId === actionId);
}

/** Polls `probe` until it gives a value. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Everything a message says, text and blocks, for `toContain`. */
export function said(message: { text?: string; blocks?: unknown[] } | undefined): string {
  return `${message?.text ?? ''}\n${JSON.stringify(message?.blocks ?? [])}`;
}

/** Signed POSTs to the app's /slack/events, as Slack sends them. */
export function sender(s: SlackTestApp): (body: string) => Promise<SignedResponse> {
  return (body) => signedRequest({ url: s.eventsUrl, signingSecret: SIGNING_SECRET, body });
}

/**
 * Clicks the button `actionId` on a message in #onboarding (a thread reply when
 * `threadTs` is given, else a top-level message), with a fresh trigger id.
 */
export async function clickButton(
  s: SlackTestApp,
  user: SlackUser,
  message: FakeMessage,
  actionId: string,
  threadTs?: string,
): Promise<SignedResponse> {
  const button = buttonsIn(message.blocks).find((b) => b.actionId === actionId);
  if (!button) throw new Error(`no ${actionId} button in message ${message.ts}: ${said(message)}`);
  const payload = blockActionPayload({
    userId: user.id,
    userName: user.name,
    actionId,
    value: button.value,
    triggerId: s.fake.issueTrigger(),
    channelId: CHANNEL,
    messageTs: message.ts,
    ...(threadTs !== undefined ? { threadTs } : {}),
    message: { ...(message.text !== undefined ? { text: message.text } : {}), ...(message.blocks ? { blocks: message.blocks } : {}) },
  });
  return sender(s)(interactionBody(payload));
}

/** The modal the app opened with views.open after `before` earlier opens; fails if Slack refused it. */
export async function openedModal(
  s: SlackTestApp,
  before: number,
): Promise<{ callbackId: string; privateMetadata: string; view: Record<string, unknown>; call: RecordedCall }> {
  const calls = await s.fake.waitFor('views.open', before + 1);
  const call = calls[before];
  if (!call) throw new Error('no views.open call');
  if (!call.ok) throw new Error(`views.open failed: ${call.error ?? call.status}`);
  const view = call.args['view'];
  if (!isRecord(view)) throw new Error('views.open without a view');
  const callbackId = view['callback_id'];
  const privateMetadata = view['private_metadata'];
  return {
    callbackId: typeof callbackId === 'string' ? callbackId : '',
    privateMetadata: typeof privateMetadata === 'string' ? privateMetadata : '',
    view,
    call,
  };
}

/** Submits a modal the app opened, with `values` as its `view.state.values`. */
export function submitModal(
  s: SlackTestApp,
  user: SlackUser,
  modal: { callbackId: string; privateMetadata: string },
  values: Record<string, Record<string, ViewStateValue | string>>,
): Promise<SignedResponse> {
  return sender(s)(
    interactionBody(
      viewSubmissionPayload({ userId: user.id, userName: user.name, callbackId: modal.callbackId, privateMetadata: modal.privateMetadata, values }),
    ),
  );
}
