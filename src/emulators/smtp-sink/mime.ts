/**
 * Just enough RFC 5322 / MIME reading for the SMTP sink: headers (unfolded,
 * RFC 2047 encoded words decoded), multipart bodies, and quoted-printable or
 * base64 leaf parts. Tests assert on what a person would read, not on the
 * encoding nodemailer happened to pick.
 */

export type ParsedMail = {
  headers: Record<string, string>;
  text: string;
  html: string | undefined;
};

type Part = { headers: Record<string, string>; body: string };

function splitPart(raw: string): Part {
  const blank = /\r?\n\r?\n/.exec(raw);
  const head = blank === null ? raw : raw.slice(0, blank.index);
  const body = blank === null ? '' : raw.slice(blank.index + blank[0].length);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // The first occurrence wins: later duplicates are usually trace headers.
    if (!(name in headers)) headers[name] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** Reads a header parameter such as boundary="abc" or charset=utf-8. */
function headerParam(value: string, param: string): string | undefined {
  const match = new RegExp(`;\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return match?.[1] ?? match?.[2];
}

function bytesToText(latin1: string, charset: string): string {
  const bytes = Buffer.from(latin1, 'latin1');
  return new TextDecoder(charset, { fatal: false }).decode(bytes);
}

function decodeQuotedPrintable(body: string, charset: string): string {
  const latin1 = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return bytesToText(latin1, charset);
}

function decodeBody(part: Part): string {
  const encoding = (part.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const charset = headerParam(part.headers['content-type'] ?? '', 'charset') ?? 'utf-8';
  let text: string;
  if (encoding === 'base64') text = new TextDecoder(charset).decode(Buffer.from(part.body, 'base64'));
  else if (encoding === 'quoted-printable') text = decodeQuotedPrintable(part.body, charset);
  else text = part.body;
  return text.replace(/\r\n/g, '\n');
}

/** RFC 2047: =?utf-8?Q?Acme_=26_Sons?= and =?utf-8?B?...?=, adjacent words joined. */
export function decodeWords(value: string): string {
  return value.replace(/(\?=)\s+(=\?)/g, '$1$2').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, kind: string, data: string) => {
    if (kind.toUpperCase() === 'B') return new TextDecoder(charset).decode(Buffer.from(data, 'base64'));
    return decodeQuotedPrintable(data.replace(/_/g, ' '), charset);
  });
}

/** The leaf parts of a message, depth first, in the order a mail client would list them. */
function leafParts(part: Part): Part[] {
  const contentType = part.headers['content-type'] ?? 'text/plain';
  const boundary = headerParam(contentType, 'boundary');
  if (!/^multipart\//i.test(contentType) || boundary === undefined) return [part];
  const sections = part.body.split(`--${boundary}`);
  // sections[0] is the preamble; the last one starts with "--" (the closing delimiter).
  return (
    sections
      .slice(1)
      .filter((section) => !section.startsWith('--'))
      // The line breaks around a delimiter belong to the delimiter, not to the part.
      .flatMap((section) => leafParts(splitPart(section.replace(/^\r?\n/, '').replace(/\r?\n$/, ''))))
  );
}

function firstOfType(parts: Part[], type: string): Part | undefined {
  return parts.find((p) => (p.headers['content-type'] ?? 'text/plain').toLowerCase().startsWith(type));
}

export function parseMail(raw: string): ParsedMail {
  const top = splitPart(raw);
  const parts = leafParts(top);
  const text = firstOfType(parts, 'text/plain');
  const html = firstOfType(parts, 'text/html');
  return {
    headers: top.headers,
    text: text === undefined ? '' : decodeBody(text),
    html: html === undefined ? undefined : decodeBody(html),
  };
}
