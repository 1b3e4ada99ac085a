import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, LIMITS, packLines, truncate } from '../../../src/slack/blocks/text.ts';

describe('a company name typed as "<!channel> & *Co*"', () => {
  const escaped = escapeMrkdwn('<!channel> & *Co*');

  it('can no longer ping the channel or open a link', () => {
    expect(escaped).not.toContain('<');
    expect(escaped).not.toContain('>');
    expect(escaped).toContain('&lt;!channel&gt;');
  });

  it('keeps the ampersand as an entity Slack shows as "&"', () => {
    expect(escaped).toContain(' &amp; ');
  });

  it('cannot make anything bold, italic, struck or code', () => {
    expect(escapeMrkdwn('*Co* _x_ ~y~ `z`')).not.toMatch(/[*_~`]/);
  });

  it('still reads the same letters', () => {
    expect(escaped.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')).toBe('<!channel> & \u2217Co\u2217');
  });

  it('does not let a bare @channel or a leading quote through', () => {
    expect(escapeMrkdwn('hi @channel')).not.toMatch(/@channel/);
    expect(escapeMrkdwn('> quoted')).toBe('\u00AD&gt; quoted');
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
