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
  hint: 2000,
  placeholder: 150,
  optionValue: 150,
  headerText: 150,
  fieldText: 2000,
  sectionFields: 10,
  contextElements: 10,
  actionsElements: 25,
} as const;

/**
 * The escaping Slack documents ("Escaping text"): &, < and > become entities,
 * so nothing can mention, link or open any other control sequence. Slack
 * shows the entities as the characters typed; nothing else is changed.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/*
 * Slack has no escape character for *bold*, _italic_, ~strike~ or `code`, but
 * it formats only where a delimiter sits at a word boundary: "cus_A1_b",
 * "price_enterprise_annual" and "C*Star" show as typed. Inside a code span it
 * formats nothing at all. Look-alike characters or invisible ones would look
 * right but break what people copy into Stripe, MongoDB or Okta, so we never
 * replace a character.
 */
const DELIMITER = /[*_~`]/;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** A word (no whitespace) in which some delimiter could open or close a format, or that would start a block quote. */
function couldFormat(word: string, startsLine: boolean): boolean {
  if (startsLine && word.startsWith('>')) return true;
  for (let i = 0; i < word.length; i += 1) {
    if (!DELIMITER.test(word.charAt(i))) continue;
    const inside = WORD_CHAR.test(word.charAt(i - 1)) && WORD_CHAR.test(word.charAt(i + 1));
    if (!inside) return true;
  }
  return false;
}

/**
 * An identifier (slug, job id, Stripe or CRM id, command) shown verbatim in a
 * code span: nothing inside is formatted, and a copy gives exactly the id.
 * One holding a backtick cannot be a code span; it is shown as free text.
 */
export function code(id: string): string {
  return id === '' || /[`\n]/.test(id) ? literal(id) : `\`${escapeMrkdwn(id)}\``;
}

/**
 * Free text people typed (a company name, a reason, an error) for mrkdwn,
 * every character as typed: escaped, and each word Slack could format put in
 * a code span ("_Acme_ Labs" shows as `_Acme_` Labs, not in italics). Words
 * holding a backtick cannot be code spans and are only escaped.
 */
export function literal(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line
        .split(/(\s+)/)
        .map((word, i) => (couldFormat(word, i === 0) && !word.includes('`') ? `\`${escapeMrkdwn(word)}\`` : escapeMrkdwn(word)))
        .join(''),
    )
    .join('\n');
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

/** Cuts without leaving half an escape (`&am`), half a surrogate pair or an unclosed code span behind. */
function safeCut(text: string, length: number): string {
  let cut = text.slice(0, length);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z]{0,4}$/, '');
  const ticks = cut.split('`').length - 1;
  return ticks % 2 === 1 ? cut.slice(0, cut.lastIndexOf('`')) : cut;
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
