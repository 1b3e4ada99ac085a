/**
 * XML from outside, read safely: a document type declaration is refused
 * before any parsing (XXE and "billion laughs" both need one), well-formedness
 * is checked by fast-xml-parser's validator (which names the line and
 * column), and the parser never expands entities (`processEntities: false`):
 * only XML's five predefined entities and character references are decoded,
 * here, each into one character. The result is a tree of elements with their
 * namespaces resolved, so readers match {namespace, name}, whatever prefixes
 * the sender chose.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type XmlName = { namespace: string | undefined; local: string };

export type XmlElement = {
  name: XmlName;
  /** The name as written (prefix:local), for problems a person reads. */
  written: string;
  attributes: readonly { name: XmlName; value: string }[];
  children: readonly XmlElement[];
  /** The character data directly inside the element, references decoded, CDATA as is. */
  text: string;
  /** Prefix → namespace in force on this element, to resolve QName values such as xsi:type="sf:Opportunity". */
  scope: ReadonlyMap<string, string>;
};

export type XmlReading = { ok: true; root: XmlElement } | { ok: false; problem: string };

/** Deeper than any SOAP message we read; refusing it keeps the reader's recursion bounded. */
const MAX_DEPTH = 32;
const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  maxNestedTags: MAX_DEPTH,
});

class XmlProblem extends Error {}

export function readXml(text: string): XmlReading {
  const declaration = /<!(DOCTYPE|ENTITY)/i.exec(text);
  if (declaration) {
    const what = declaration[1]?.toUpperCase() === 'DOCTYPE' ? 'a document type declaration (<!DOCTYPE …>)' : 'an entity declaration (<!ENTITY …>)';
    return {
      ok: false,
      problem: `the XML holds ${what}, which a SOAP message may not have (refused unread: it could define external or expanding entities)`,
    };
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const col = valid.err.col === undefined ? '' : `, column ${valid.err.col}`;
    return { ok: false, problem: `the body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}${col})` };
  }
  try {
    const roots = elementNodes(parser.parse(text));
    const [first] = roots;
    if (!first || roots.length > 1) return { ok: false, problem: `the XML has ${roots.length} root elements; a SOAP message has one (the Envelope)` };
    return { ok: true, root: toElement(first, new Map([['xml', XML_NAMESPACE]]), 1) };
  } catch (err) {
    if (err instanceof XmlProblem) return { ok: false, problem: err.message };
    // The parser refuses a few names outright (e.g. __proto__) by throwing.
    return { ok: false, problem: `the XML could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The namespace a QName value (such as an xsi:type) names, in the element's scope; undefined for an undeclared prefix. */
export function resolveQName(element: XmlElement, qname: string): XmlName | undefined {
  const [prefix, local] = splitName(qname.trim());
  const namespace = element.scope.get(prefix);
  if (prefix !== '' && namespace === undefined) return undefined;
  return { namespace, local };
}

/** The value of the attribute {namespace}local, if present. */
export function attribute(element: XmlElement, namespace: string | undefined, local: string): string | undefined {
  return element.attributes.find((a) => a.name.namespace === namespace && a.name.local === local)?.value;
}

type Node = { tag: string; children: unknown[]; attributes: Record<string, unknown> };

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The element nodes of fast-xml-parser's ordered output: `{ tag: [children], ':@': { attributes } }`. */
function elementNodes(nodes: unknown): Node[] {
  const list: unknown[] = Array.isArray(nodes) ? nodes : [];
  return list.flatMap((node): Node[] => {
    if (!isRecord(node)) return [];
    const tag = Object.keys(node).find((key) => key !== ':@' && key !== '#text' && key !== '#cdata');
    if (tag === undefined) return [];
    const children: unknown = node[tag];
    const attributes: unknown = node[':@'];
    return [{ tag, children: Array.isArray(children) ? children : [], attributes: isRecord(attributes) ? attributes : {} }];
  });
}

function toElement(node: Node, inherited: ReadonlyMap<string, string>, depth: number): XmlElement {
  if (depth > MAX_DEPTH) throw new XmlProblem(`the XML is nested more than ${MAX_DEPTH} elements deep; a SOAP message is not`);
  const scope = new Map(inherited);
  const plain: [string, string][] = [];
  for (const [name, raw] of Object.entries(node.attributes)) {
    const value = decode(String(raw));
    if (name === 'xmlns') {
      if (value === '') scope.delete('');
      else scope.set('', value);
    } else if (name.startsWith('xmlns:')) {
      scope.set(name.slice('xmlns:'.length), value);
    } else {
      plain.push([name, value]);
    }
  }
  const attributes = plain.map(([name, value]) => ({ name: resolveName(name, scope, false), value }));
  return {
    name: resolveName(node.tag, scope, true),
    written: node.tag,
    attributes,
    children: elementNodes(node.children).map((child) => toElement(child, scope, depth + 1)),
    text: textOf(node.children),
    scope,
  };
}

function splitName(name: string): [prefix: string, local: string] {
  const colon = name.indexOf(':');
  return colon < 0 ? ['', name] : [name.slice(0, colon), name.slice(colon + 1)];
}

/** Elements without a prefix take the default namespace; attributes without one have none (Namespaces in XML, §6.2). */
function resolveName(written: string, scope: ReadonlyMap<string, string>, isElement: boolean): XmlName {
  const [prefix, local] = splitName(written);
  if (prefix === '') return { namespace: isElement ? scope.get('') : undefined, local };
  const namespace = scope.get(prefix);
  if (namespace === undefined) throw new XmlProblem(`the prefix "${prefix}" of <${written}> is not declared (no xmlns:${prefix}="…" in scope)`);
  return { namespace, local };
}

function textOf(children: readonly unknown[]): string {
  let text = '';
  for (const child of children) {
    if (!isRecord(child)) continue;
    if (typeof child['#text'] === 'string') text += decode(child['#text']);
    const cdata = child['#cdata'];
    if (Array.isArray(cdata)) {
      for (const part of cdata) if (isRecord(part) && typeof part['#text'] === 'string') text += part['#text'];
    }
  }
  return text;
}

/** XML's five predefined entities and character references, each to the one character it stands for; any other reference is refused. */
function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);/g, (reference, body: string) => {
    if (!body.startsWith('#')) {
      const char = PREDEFINED[body];
      if (char === undefined)
        throw new XmlProblem(`the XML uses the entity ${reference}, which is not declared (only &lt; &gt; &amp; &quot; &apos; are)`);
      return char;
    }
    const code = body.startsWith('#x') ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
    if (!isXmlChar(code)) throw new XmlProblem(`the character reference ${reference} is not a character XML allows`);
    return String.fromCodePoint(code);
  });
}

/** XML 1.0's Char production. */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}
