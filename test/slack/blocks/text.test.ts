import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { code, escapeMrkdwn, LIMITS, literal, packLines, truncate } from '../../../src/slack/blocks/text.ts';

/** What Slack shows for our mrkdwn, for text without backticks of its own: the code spans we added undone, entities decoded. */
function shown(mrkdwn: string): string {
  return mrkdwn.replace(/`/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

describe('a company name typed as "<!channel> & *Co*"', () => {
  it('can no longer ping the channel or open a link', () => {
    const escaped = literal('<!channel> & *Co*');
    expect(escaped).not.toContain('<');
    expect(escaped).not.toContain('>');
    expect(escaped).toContain('&lt;!channel&gt;');
  });

  it('keeps the ampersand as an entity Slack shows as "&"', () => {
    expect(literal('<!channel> & *Co*')).toContain(' &amp; ');
  });

  it('formats nothing: a word Slack could format goes in a code span, where Slack formats nothing', () => {
    expect(literal('<!channel> & *Co*')).toBe('&lt;!channel&gt; &amp; `*Co*`');
    expect(literal('_Acme_ ~Labs~')).toBe('`_Acme_` `~Labs~`');
  });

  it('changes no character: what Slack shows is what was typed', () => {
    expect(shown(literal('<!channel> & *Co*'))).toBe('<!channel> & *Co*');
  });

  it('escapes only what Slack documents: &, < and >', () => {
    expect(escapeMrkdwn('<!channel> & *Co* _x_ @here')).toBe('&lt;!channel&gt; &amp; *Co* _x_ @here');
  });
});

describe('identifiers people copy into Stripe, MongoDB or Okta', () => {
  it.each(['cus_ACME123', 'sub_1PqR2s', 'price_enterprise_annual', 'tenant_acme', 'acme-3f9a1c0b2d'])('%s is shown verbatim in a code span', (id) => {
    expect(code(id)).toBe(`\`${id}\``);
  });

  it('underscores inside a word are left alone in free text too (Slack formats only at word boundaries)', () => {
    expect(literal('price_enterprise_annual: rejected for tenant_acme')).toBe('price_enterprise_annual: rejected for tenant_acme');
    expect(literal('C*Star')).toBe('C*Star');
  });

  it('an id holding a backtick cannot be a code span: it is shown as typed, escaped', () => {
    expect(code('we`ird')).toBe('we`ird');
    expect(code('<b>')).toBe('`&lt;b&gt;`');
  });

  it('a line starting with ">" does not become a block quote', () => {
    expect(literal('> quoted\nnot > quoted')).toBe('`&gt;` quoted\nnot &gt; quoted');
  });

  it('any text: every character survives, and nothing outside a code span can open a format', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'B', '1', '_', '*', '~', '>', '<', '&', ' ', '\n', 'é') });
    fc.assert(
      fc.property(text, (typed) => {
        const out = literal(typed);
        expect(shown(out)).toBe(typed);
        const outsideCode = out.replace(/`[^`]*`/g, ' ');
        expect(outsideCode).not.toMatch(/(^|[^\p{L}\p{N}])[*_~]|[*_~]($|[^\p{L}\p{N}])/u);
        expect(outsideCode).not.toMatch(/[<>]/);
      }),
    );
  });
});

describe('truncate', () => {
  it('leaves short text alone', () => {
    expect(truncate('short', 10)).toBe('short');
  });

  it('never exceeds the limit and says where the rest is', () => {
    const cut = truncate('x'.repeat(5000), LIMITS.text, 'see /provision audit acme');
    expect(cut.length).toBeLessThanOrEqual(LIMITS.text);
    expect(cut.endsWith('… (see /provision audit acme)')).toBe(true);
  });

  it('does not leave half an escape behind', () => {
    const cut = truncate(escapeMrkdwn(`${'a'.repeat(8)}&&&&`), 12);
    expect(cut).toBe('aaaaaaaa…');
  });

  it('does not leave a code span open', () => {
    expect(truncate(`ab ${code('cus_ACME123')}`, 8)).toBe('ab …');
  });

  it('copes with a pointer longer than the limit', () => {
    expect(truncate('abcdef', 4, 'a very long pointer').length).toBe(4);
  });
});

describe('packLines', () => {
  it('puts many lines into few chunks, none over the limit', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${'•'.repeat(40)}`);
    const chunks = packLines(lines);
    expect(chunks.length).toBeLessThan(10);
    expect(chunks.every((c) => c.length <= LIMITS.text)).toBe(true);
    expect(chunks.join('\n').split('\n')).toEqual(lines);
  });
});
