/**
 * Characters a person's text must not carry into a terminal, an email
 * subject, Stripe or Slack: control characters (C0, DEL and C1; ESC starts
 * the escape sequences that recolour, move or clear a terminal), the
 * invisible bidirectional controls that make text display in another order
 * than it is stored ("Trojan Source"), and the Unicode line and paragraph
 * separators. The intake refuses them; `printable` defuses them in text
 * stored before it did.
 */

const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');
const CONTROL = /\p{Cc}/u;
const SEPARATOR = /[\u2028\u2029]/u;
/** A letter, digit, punctuation mark or symbol: something a reader can see (spaces and zero-width characters are not). */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

/** "U+001B" for ESC. */
export function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What the first unsafe character in `text` is, in words, e.g. "a control character (U+001B)"; undefined if there is none. */
export function unsafeCharacter(text: string): string | undefined {
  const char = UNSAFE.exec(text)?.[0];
  if (char === undefined) return undefined;
  if (CONTROL.test(char)) return `a control character (${codePoint(char)})`;
  if (SEPARATOR.test(char)) return `a line separator (${codePoint(char)})`;
  return `an invisible text-direction control (${codePoint(char)})`;
}

export function hasVisibleCharacter(text: string): boolean {
  return VISIBLE.test(text);
}

/** `text` with every unsafe character shown as a visible escape (ESC → "\u001B"), so it can be written to a terminal as it is. */
export function printable(text: string): string {
  return text.replace(UNSAFE_ALL, (char) => `\\u${codePoint(char).slice(2)}`);
}
