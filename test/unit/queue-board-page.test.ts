/**
 * The queue dashboard's page policy, from Bull Board's page template: exactly its inline styles are allowed (by
 * hash), nothing inline besides, and no stylesheet from another origin reaches the page.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boardPolicy, withoutOffsiteLinks } from '../../src/http/routes/queues.ts';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe("the queue dashboard's page", () => {
  it('allows the inline styles of its template by hash, and nothing else inline', () => {
    const template = '<div style="display:flex"><span style="color:red"></span></div><style>.a{b:c}</style><span style="display:flex"></span>';
    const policy = boardPolicy(template);
    const styles = policy.split('; ').find((d) => d.startsWith('style-src '));
    expect(styles).toBe(`style-src 'self' 'unsafe-hashes' ${sha256('display:flex')} ${sha256('color:red')} ${sha256('.a{b:c}')}`);
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
  });

  it('a template without inline styles gets our pages’ own style rule', () => {
    expect(boardPolicy('<p>plain</p>')).toContain("style-src 'self';");
  });

  it('drops links to other origins and keeps its own', () => {
    const page = [
      '<link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans" rel="stylesheet">',
      '<link rel="stylesheet" href="//cdn.example/x.css">',
      '<link href="static/css/main.css" rel="stylesheet">',
      '<link rel="icon" href="static/images/logo.svg">',
    ].join('\n');
    expect(withoutOffsiteLinks(page)).toBe('\n\n<link href="static/css/main.css" rel="stylesheet">\n<link rel="icon" href="static/images/logo.svg">');
  });
});
