/**
 * Text people typed (and text stored before the intake refused control
 * characters) is shown in terminals: an escape sequence in a company name
 * must be seen, not obeyed.
 */
import { describe, expect, it } from 'vitest';
import { hasVisibleCharacter, printable, unsafeCharacter } from '../../src/domain/text-safety.ts';

describe('printable', () => {
  it('shows terminal escapes, C1 controls and bidi overrides as visible escapes', () => {
    expect(printable('Acme\u001b[2J\u001b]8;;https://evil.example\u0007 Corp')).toBe('Acme\\u001B[2J\\u001B]8;;https://evil.example\\u0007 Corp');
    expect(printable('\u009b31m')).toBe('\\u009B31m');
    expect(printable('invoice\u202Efdp.exe')).toBe('invoice\\u202Efdp.exe');
    expect(printable('a\u2066b\u2069c\u200fd')).toBe('a\\u2066b\\u2069c\\u200Fd');
    expect(printable('one\ntwo\rthree\u2028four')).toBe('one\\u000Atwo\\u000Dthree\\u2028four');
  });

  it('leaves ordinary text in any script alone', () => {
    const names = 'Zürich Versicherung — 株式会社 — Ωmega — Family 👨‍👩‍👧 — ✓ ▶ █░';
    expect(printable(names)).toBe(names);
  });
});

describe('unsafeCharacter and hasVisibleCharacter', () => {
  it('say which character is unsafe, or that there is nothing to see', () => {
    expect(unsafeCharacter('Acme\u001b[31m')).toBe('a control character (U+001B)');
    expect(unsafeCharacter('Acme\u202e')).toBe('an invisible text-direction control (U+202E)');
    expect(unsafeCharacter('Acme\u2029')).toBe('a line separator (U+2029)');
    expect(unsafeCharacter('Acme Corp')).toBeUndefined();
    expect(hasVisibleCharacter('\u200b\u200c\u200d\u2060\ufeff \u00a0')).toBe(false);
    expect(hasVisibleCharacter('\u200b.')).toBe(true);
  });
});
