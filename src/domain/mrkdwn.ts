/**
 * Slack's mrkdwn text rules, as pure functions: escaping what people typed so
 * it renders literally, and keeping every string inside Slack's limits (Slack
 * rejects the whole payload when one field is too long, so we trim rather than
 * fail). On the ground floor because every route to Slack needs them: Block
 * Kit built in src/slack and the Slack-format webhook a step posts.
 */

/** Slack's documented limits for the surfaces we build. */
export const LIMITS = {
  /** A message's top-level `text` (Slack answers msg_too_long beyond it). */
  messageText: 40_000,
  messageBlocks: 50,
  modalBlocks: 100,
  /** Section text, and our own cap for any single mrkdwn text. */
  text: 3000,
  buttonText: 75,
  actionValue: 2000,
  privateMetadata: 3000,
  modalTitle: 24,
  /** Modal submit/close labels, confirm-dialog button labels are shorter still (30). */
  modalButton: 24,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  optionText: 75,
  optionDescription: 75,
  checkboxOptions: 10,
  inputLabel: 2000,
  contextElements: 10,
} as const;

/*
 * Slack has no escape character for *bold*, _italic_, ~strike~ or `code`.
 * Zero-width spaces are no good: Slack treats them as word breaks, so
 * "\u200B*\u200Bx\u200B*\u200B" *forces* formatting (jsx-slack's "exact mode"
 * relies on that). Look-alike code points render the same text and can never
 * open or close a format.
 */
const LOOK_ALIKE: Readonly<Record<string, string>> = {
  '*': '\u2217', // ∗ asterisk operator
  _: '\u02CD', // ˍ modifier letter low macron
  '~': '\u223C', // ∼ tilde operator
  '`': '\u02CB', // ˋ modifier letter grave accent
};

/**
 * Makes user-supplied text safe inside mrkdwn: `<!channel> & *Co*` renders as
 * typed, pings nobody, links nothing and formats nothing.
 */
export function escapeMrkdwn(text: string): string {
  return (
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/[*_~`]/g, (c) => LOOK_ALIKE[c] ?? c)
      // A leading "&gt;" still starts a block quote; a soft hyphen before it is invisible.
      .replace(/(^|\n)&gt;/g, '$1\u00AD&gt;')
      // With link_names on, a bare "@channel" pings too; an invisible word joiner breaks the keyword.
      .replace(/@(channel|here|everyone)\b/gi, '@\u2060$1')
  );
}

const ELLIPSIS = '…';

/**
 * At most `max` characters. When cut, ends with "… (pointer)" so the reader
 * knows where the rest is, e.g. pointer "see /provision audit acme".
 */
export function truncate(text: string, max: number, pointer?: string): string {
  if (text.length <= max) return text;
  const suffix = pointer ? `${ELLIPSIS} (${pointer})` : ELLIPSIS;
  if (suffix.length >= max) return suffix.slice(0, max);
  return safeCut(text, max - suffix.length) + suffix;
}

/** Cuts without leaving half an escape (`&am`) or half a surrogate pair behind. */
function safeCut(text: string, length: number): string {
  let cut = text.slice(0, length);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut.replace(/&[a-z]{0,4}$/, '');
}

/**
 * Packs lines into as few texts as possible, each at most `max` characters
 * (a longer line is cut). Used to keep step lists and audit trails in a
 * handful of section blocks instead of one block per line.
 */
export function packLines(lines: readonly string[], max: number = LIMITS.text): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = truncate(raw, max);
    if (current === '') current = line;
    else if (current.length + 1 + line.length <= max) current = `${current}\n${line}`;
    else {
      chunks.push(current);
      current = line;
    }
  }
  if (current !== '') chunks.push(current);
  return chunks;
}
