/**
 * HTML built by tagged templates: every interpolated value is escaped unless
 * it is already Html (made by this module). Pages are pure functions from
 * data to Html, so what a visitor sees can be tested without a browser.
 */

const HTML = Symbol('html');

export type Html = { readonly [HTML]: true; readonly text: string };

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && HTML in value;
}

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (isHtml(value)) return value.text;
  return escapeHtml(String(value));
}

/** `html\`<p>${name}</p>\`` escapes name; nested html`` fragments and arrays of them pass through. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) text += render(values[i] ?? '') + (strings[i + 1] ?? '');
  return { [HTML]: true, text };
}

/** Markup this program made itself (e.g. an SVG drawn from numbers); never pass user text here. */
export function trusted(text: string): Html {
  return { [HTML]: true, text };
}

export function join(parts: readonly Html[], separator = ''): Html {
  return trusted(parts.map((p) => p.text).join(separator));
}
