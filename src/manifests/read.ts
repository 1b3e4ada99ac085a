// From a file's bytes to a checked value: every way a manifest can be unreadable
// (too big, a NUL byte, invalid UTF-8, broken YAML, an alias bomb, a list where a
// mapping belongs) becomes a ManifestProblem naming the place, never an exception.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Alias, Document, Node, YAMLError } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../domain/template.ts';
import type { ManifestProblem } from './problems.ts';

/** Manifests are small hand-written files (a few KiB); a bigger one is a mistake or an attack, refused unread. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Anchors and aliases may save repetition, but no manifest needs more aliased values than yaml's own default. */
export const MAX_ALIAS_COUNT = 100;
/** A badly broken file can make the parser report thousands of problems; the first few say enough. */
const MAX_YAML_PROBLEMS = 10;

type ManifestPath = readonly (string | number)[];

export type ParsedManifest<T> = {
  value: T | undefined;
  problems: ManifestProblem[];
  /** Where a manifest path sits in the file, or the nearest enclosing node that exists. */
  problemAt: (at: ManifestPath, message: string) => ManifestProblem;
};

export type ManifestText = { text: string; problem?: undefined } | { text?: undefined; problem: ManifestProblem };

/** Reads a manifest as strict UTF-8 text; `name` is how problems name the file. */
export function readManifestText(file: string, name: string): ManifestText {
  const problem = (message: string, place: { line?: number; column?: number } = {}): ManifestText => ({
    problem: { file: name, path: '', message, ...place },
  });
  let bytes: Buffer;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) return problem('is a directory, not a file');
    if (!stat.isFile()) return problem('is not a regular file');
    if (stat.size > MAX_MANIFEST_BYTES) return problem(tooBig(stat.size));
    bytes = readFileSync(file);
  } catch (error) {
    if (isErrno(error) && error.code === 'ENOENT') return problem(`file not found (expected at ${resolve(file)})`);
    return problem(`cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (bytes.length > MAX_MANIFEST_BYTES) return problem(tooBig(bytes.length)); // grew since stat
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    return problem(`contains a NUL byte at byte offset ${nul}; manifests are UTF-8 text (is this a binary or UTF-16 file?)`, bytePlace(bytes, nul));
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const bad = firstInvalidUtf8Byte(bytes);
    const byte = `0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')}`;
    return problem(`is not valid UTF-8: byte ${byte} at byte offset ${bad} does not belong there; save the file as UTF-8`, bytePlace(bytes, bad));
  }
}

function tooBig(size: number): string {
  return `the file is ${(size / MAX_MANIFEST_BYTES).toFixed(1)} MiB (${size} bytes); a manifest may be at most 1 MiB`;
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

/** Line and column (counted in bytes) of a byte offset. */
function bytePlace(bytes: Buffer, offset: number): { line: number; column: number } {
  const before = bytes.subarray(0, offset);
  let line = 1;
  for (const byte of before) if (byte === 0x0a) line += 1;
  return { line, column: offset - (before.lastIndexOf(0x0a) + 1) + 1 };
}

/**
 * The fatal decoder says only that the bytes are invalid, so find where: decode leniently
 * and walk to the first U+FFFD that is not the valid encoding of U+FFFD itself (EF BF BD).
 */
function firstInvalidUtf8Byte(bytes: Buffer): number {
  let offset = 0;
  for (const char of new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)) {
    if (char === '\uFFFD' && !(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) return offset;
    offset += Buffer.byteLength(char);
  }
  return offset;
}

/** Parses one YAML manifest against its schema; problems carry paths and line numbers. */
export function parseManifestText<S extends z.ZodType>(file: string, text: string, schema: S): ParsedManifest<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (at: ManifestPath): number | undefined => {
    for (let length = at.length; length >= 0; length -= 1) {
      const node = doc.getIn(at.slice(0, length), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const problemAt = (at: ManifestPath, message: string): ManifestProblem => {
    const line = lineOf(at);
    return { file, path: formatPath(at), message, ...(line === undefined ? {} : { line }) };
  };
  /** A problem at a position in the text: the path of the node there, its line and column. */
  const problemAtOffset = (offset: number, message: string | ((at: ManifestPath) => string)): ManifestProblem => {
    const { line, col } = lineCounter.linePos(offset);
    const at = pathAt(doc, offset, text.length);
    return { file, path: formatPath(at), message: typeof message === 'string' ? message : message(at), line, column: col };
  };
  const failed = (problems: ManifestProblem[]): ParsedManifest<z.output<S>> => ({ value: undefined, problems, problemAt });

  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) {
    const shown = yamlProblems.slice(0, MAX_YAML_PROBLEMS).map((error) => problemAtOffset(error.pos[0], (at) => explainYamlError(error, at)));
    const more = yamlProblems.length - shown.length;
    return failed(more > 0 ? [...shown, { file, path: '', message: `and ${more} more YAML problems` }] : shown);
  }
  const root = doc.contents;
  if (root === null) return failed([problemAt([], 'file is empty')]);
  if (!isMap(root)) {
    const holds = isSeq(root) ? 'a list' : 'a single value';
    return failed([problemAtOffset(root.range?.[0] ?? 0, `the file holds ${holds}; a manifest is a mapping of keys to values (like "version: 1")`)]);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const culprit = error instanceof ReferenceError ? aliasAtFault(doc) : undefined;
    const message = explainConversionError(error);
    return failed([culprit?.range ? problemAtOffset(culprit.range[0], message) : { file, path: '', message }]);
  }
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return { value: result.data, problems: [], problemAt };
  return failed(result.error.issues.flatMap((issue) => issueProblems(issue, problemAt)));
}

function explainYamlError(error: YAMLError, at: ManifestPath): string {
  const key = at.at(-1);
  if (error.code === 'DUPLICATE_KEY' && key !== undefined)
    return `duplicate key "${key}": it already appears earlier in this mapping; keep one of them`;
  if (error.code === 'MULTIPLE_DOCS') return 'a manifest is one YAML document; remove the "---" line that starts a second one';
  if (error.code === 'RESOURCE_EXHAUSTION') return `nested too deeply for the YAML parser (${error.message})`;
  if (error.code === 'TAG_RESOLVE_FAILED') return `${error.message}; manifests hold plain YAML values, remove the tag`;
  return error.message;
}

// yaml throws (a ReferenceError) while building values from aliases: too many, or one without its anchor.
function explainConversionError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('Excessive alias count')) {
    return `aliases expand to too many values (more than ${MAX_ALIAS_COUNT}), as in a "billion laughs" attack; use fewer aliases of aliases (${message})`;
  }
  if (error instanceof RangeError) return `nested too deeply to read (${message})`;
  return message;
}

/** The alias a conversion error is about: one whose anchor is missing, else the first that expands into further aliases. */
function aliasAtFault(doc: Document.Parsed): Alias | undefined {
  const anchors = new Map<string, Node>();
  let found: Alias | undefined;
  visit(doc, {
    Node(_key, node) {
      if (node.anchor) anchors.set(node.anchor, node);
    },
    Alias(_key, alias) {
      const source = anchors.get(alias.source);
      if (source === undefined || containsAlias(source)) {
        found = alias;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function containsAlias(node: Node): boolean {
  let seen = false;
  visit(node, {
    Alias() {
      seen = true;
      return visit.BREAK;
    },
  });
  return seen;
}

/** The manifest path of the innermost mapping entry or list item at `offset` in the text. */
function pathAt(doc: Document.Parsed, offset: number, end: number): (string | number)[] {
  // A node ending where the text ends also holds an error reported there (an unclosed quote).
  const holds = (start: number | undefined, to: number | undefined): boolean =>
    start !== undefined && to !== undefined && start <= offset && (offset < to || (offset === to && to === end));
  const at: (string | number)[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isNode(item.key) && holds(item.key.range?.[0], (isNode(item.value) ? item.value : item.key).range?.[2]));
      if (!pair || !isNode(pair.key)) return at;
      at.push(isScalar(pair.key) ? String(pair.key.value) : String(pair.key));
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => isNode(item) && holds(item.range?.[0], item.range?.[2]));
      if (index < 0) return at;
      at.push(index);
      node = node.items[index];
    } else {
      return at;
    }
  }
}

function issueProblems(issue: z.core.$ZodIssue, problemAt: ParsedManifest<unknown>['problemAt']): ManifestProblem[] {
  const at = issue.path.map(pathPart);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => problemAt([...at, key], `unrecognized key "${key}"; check its spelling and indentation`));
  }
  if (issue.code === 'invalid_key') {
    const reason = issue.issues[0]?.message ?? issue.message;
    return [problemAt(at, `invalid key "${String(at.at(-1))}": ${reason}`)];
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [problemAt(at, `missing; expected ${describeType(issue.expected)}`)];
  }
  return [problemAt(at, issue.message)];
}

function describeType(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'a mapping';
  return `a ${expected}`;
}

// Zod paths may hold symbols in theory; manifests only ever produce strings and numbers.
export const pathPart = (part: PropertyKey): string | number => (typeof part === 'number' ? part : String(part));
