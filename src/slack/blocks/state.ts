/** Reading what Slack sends back from a modal (`view.state.values`). */
import type { ViewOutput, ViewStateValue } from '@slack/bolt';

/** `{ [blockId]: { [actionId]: value } }`, as in a view_submission payload. */
export type ViewStateValues = ViewOutput['state']['values'];

export function stateValue(values: ViewStateValues, ids: { blockId: string; actionId: string }): ViewStateValue | undefined {
  return values[ids.blockId]?.[ids.actionId];
}

/** A typed text value, trimmed; undefined when missing or blank. */
export function stateText(values: ViewStateValues, ids: { blockId: string; actionId: string }): string | undefined {
  const text = stateValue(values, ids)?.value?.trim();
  return text === undefined || text === '' ? undefined : text;
}
