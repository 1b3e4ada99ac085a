/**
 * What Slack really sends to /slack/events, checked before Bolt sees it:
 * Bolt 5 answers 500, or never answers, for signed bodies Slack never sends
 * (a `payload` of `null`, `actions` that is not a list, a view without its
 * state, an event that is not an object). Those get a 400 here instead; a
 * real request from Slack always passes.
 */
import { z } from 'zod';

const User = z.looseObject({ id: z.string() });

const Interaction = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('block_actions'), user: User, actions: z.array(z.looseObject({ action_id: z.string() })).min(1) }),
  z.looseObject({
    type: z.literal('view_submission'),
    user: User,
    view: z.looseObject({ callback_id: z.string(), state: z.looseObject({ values: z.record(z.string(), z.unknown()) }) }),
  }),
  z.looseObject({ type: z.literal('view_closed'), user: User, view: z.looseObject({ callback_id: z.string() }) }),
  z.looseObject({ type: z.literal('shortcut'), user: User, callback_id: z.string() }),
  z.looseObject({ type: z.literal('message_action'), user: User, callback_id: z.string() }),
  z.looseObject({ type: z.literal('block_suggestion'), user: User, action_id: z.string() }),
]);

const EventsApi = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('url_verification'), challenge: z.string() }),
  z.looseObject({ type: z.literal('event_callback'), event: z.looseObject({ type: z.string() }) }),
  z.looseObject({ type: z.literal('app_rate_limited') }),
]);

const SlashCommand = z.looseObject({ command: z.string().startsWith('/'), user_id: z.string(), text: z.string().optional() });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Undefined when the body is one Slack sends; otherwise what is wrong with it (for the log, never for the caller). */
export function slackRequestProblem(body: string, contentType: string | undefined): string | undefined {
  if ((contentType ?? '').includes('application/json')) {
    return EventsApi.safeParse(parseJson(body)).success ? undefined : 'an Events API body Slack does not send';
  }
  const form = new URLSearchParams(body);
  if (form.has('ssl_check')) return undefined;
  const payload = form.get('payload');
  if (payload !== null) return Interaction.safeParse(parseJson(payload)).success ? undefined : 'an interaction payload Slack does not send';
  return SlashCommand.safeParse(Object.fromEntries(form)).success ? undefined : 'a form that is neither a command nor an interaction';
}
