/**
 * Small constructors for Block Kit objects, so the builders read as what they
 * show. Every message leaves through message(), which applies Slack's limits
 * (withinLimits): a builder cannot produce a payload Slack would reject for
 * length, whatever went into it.
 */
import type {
  ActionsBlock,
  Button,
  ConfirmationDialog,
  ContextBlock,
  DividerBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/types';
import { withinLimits } from './limits.ts';
import { LIMITS, packLines, truncate } from './text.ts';

/** What every builder returns: `text` is the notification / screen-reader fallback. */
export type SlackMessage = { text: string; blocks: KnownBlock[] };

/** A message within limits whatever went into it: the fallback text, the block count and every text in the blocks are capped. */
export function message(text: string, blocks: readonly KnownBlock[]): SlackMessage {
  return { text: truncate(text, LIMITS.text), blocks: withinLimits(blocks, LIMITS.messageBlocks) };
}

export function plain(text: string, max: number = LIMITS.text): PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max), emoji: true };
}

/**
 * mrkdwn text; callers pass what people typed through literal() or code().
 * Verbatim: Slack links and mentions only what we wrote as <…>, never a bare
 * URL, #channel or @here that someone typed.
 */
export function mrkdwn(text: string, max: number = LIMITS.text): MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(text, max), verbatim: true };
}

export function section(text: string, blockId?: string): SectionBlock {
  const block: SectionBlock = { type: 'section', text: mrkdwn(text) };
  if (blockId !== undefined) block.block_id = blockId;
  return block;
}

export function context(...texts: string[]): ContextBlock {
  return { type: 'context', elements: texts.slice(0, LIMITS.contextElements).map((t) => mrkdwn(t)) };
}

export function divider(): DividerBlock {
  return { type: 'divider' };
}

export function actions(blockId: string, ...buttons: Button[]): ActionsBlock {
  return { type: 'actions', block_id: blockId, elements: buttons };
}

export type ButtonSpec = {
  actionId: string;
  text: string;
  value: string;
  style?: 'primary' | 'danger';
  confirm?: ConfirmationDialog;
};

export function button(spec: ButtonSpec): Button {
  if (spec.value.length > LIMITS.actionValue) {
    // A programming error (ids are short); failing here beats Slack refusing the post.
    throw new Error(`button value for ${spec.actionId} is ${spec.value.length} characters; Slack allows ${LIMITS.actionValue}`);
  }
  const b: Button = { type: 'button', action_id: spec.actionId, text: plain(spec.text, LIMITS.buttonText), value: spec.value };
  if (spec.style) b.style = spec.style;
  if (spec.confirm) b.confirm = spec.confirm;
  return b;
}

export function confirmDialog(opts: { title: string; text: string; confirm: string; deny: string; danger?: boolean }): ConfirmationDialog {
  const dialog: ConfirmationDialog = {
    title: plain(opts.title, LIMITS.confirmTitle),
    text: mrkdwn(opts.text, LIMITS.confirmText),
    confirm: plain(opts.confirm, LIMITS.confirmButton),
    deny: plain(opts.deny, LIMITS.confirmButton),
  };
  if (opts.danger) dialog.style = 'danger';
  return dialog;
}

/**
 * Lines as section blocks, at most `maxBlocks` of them. When they do not all
 * fit, the first ones are kept and `overflow(hiddenCount)` ends the last block
 * so the reader knows where the rest is.
 */
export function lineSections(lines: readonly string[], maxBlocks: number, overflow: (hidden: number) => string): SectionBlock[] {
  const build = (k: number): string[] => (k === lines.length ? [...lines] : [...lines.slice(0, k), overflow(lines.length - k)]);
  return packLines(build(largestFitting(lines.length, maxBlocks, build))).map((c) => section(c));
}

/**
 * The largest k in [0, n] for which build(k) packs into at most `maxBlocks`
 * sections (binary search: more lines never pack into fewer sections).
 */
export function largestFitting(n: number, maxBlocks: number, build: (k: number) => readonly string[]): number {
  const fits = (k: number): boolean => packLines(build(k)).length <= maxBlocks;
  if (fits(n)) return n;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
