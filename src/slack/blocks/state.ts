/** Reading what Slack sends back from a modal (`view.state.values`). */
import type { ViewOutput, ViewStateValue } from '@slack/bolt';

/** `{ [blockId]: { [actionId]: value } }`, as in a view_submission payload. */
export type ViewStateValues = ViewOutput['state']['values'];

export function stateValue(values: ViewStateValues, ids: { blockId: string; actionId: string }): ViewStateValue | undefined {
  // `?.` on values too: a payload Slack would not send may carry none.
  return values?.[ids.blockId]?.[ids.actionId];
}

/**
 * A typed text value, trimmed; undefined when missing or blank. The payload is
 * typed by Bolt but shaped by whoever sent it: a value that is not text counts
 * as no answer, so the person is asked again rather than the listener failing.
 */
export function stateText(values: ViewStateValues, ids: { blockId: string; actionId: string }): string | undefined {
  const value: unknown = stateValue(values, ids)?.value;
  const text = typeof value === 'string' ? value.trim() : undefined;
  return text === undefined || text === '' ? undefined : text;
}
