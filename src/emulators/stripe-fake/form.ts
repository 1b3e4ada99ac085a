/**
 * Stripe's v1 wire format: application/x-www-form-urlencoded bodies (and
 * query strings) with bracket notation, e.g. `metadata[tenant_id]=x`,
 * `items[0][price]=p`, `lookup_keys[]=a`. Parsed into nested objects and
 * arrays, plus typed readers that answer with Stripe's own 400s.
 */
import { StripeFakeError } from './errors.ts';

export type FormValue = string | FormValue[] | FormObject;
export type FormObject = { [key: string]: FormValue };

export function isFormObject(value: FormValue | undefined): value is FormObject {
  return typeof value === 'object' && !Array.isArray(value);
}

/** "items[0][price]" → ["items", "0", "price"]; "lookup_keys[]" → ["lookup_keys", ""]. */
function keyPath(key: string): string[] {
  const open = key.indexOf('[');
  if (open < 0) return [key];
  const parts = [key.slice(0, open)];
  for (const match of key.slice(open).matchAll(/\[([^\]]*)\]/g)) parts.push(match[1] ?? '');
  return parts;
}

// Keys that would reach Object.prototype through plain-object assignment.
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function assign(root: FormObject, path: readonly string[], value: string): void {
  let node = root;
  for (const [index, part] of path.entries()) {
    // "[]" appends: the next free position of this node.
    const key = part === '' ? String(Object.keys(node).length) : part;
    if (UNSAFE_KEYS.has(key)) return;
    if (index === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (isFormObject(next)) {
      node = next;
    } else {
      const fresh: FormObject = {};
      node[key] = fresh;
      node = fresh;
    }
  }
}

/** Objects whose keys are all indexes ("0", "1"…) become arrays, in index order. */
function withArrays(value: FormValue): FormValue {
  if (!isFormObject(value)) return value;
  const entries = Object.entries(value).map(([key, inner]): [string, FormValue] => [key, withArrays(inner)]);
  if (entries.length > 0 && entries.every(([key]) => /^\d+$/.test(key))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, inner]) => inner);
  }
  return Object.fromEntries(entries);
}

export function parseForm(encoded: string): FormObject {
  const root: FormObject = {};
  for (const [key, value] of new URLSearchParams(encoded)) assign(root, keyPath(key), value);
  const parsed = withArrays(root);
  return isFormObject(parsed) ? parsed : {};
}

/** Stripe rejects any parameter the endpoint does not know. */
export function allowOnly(params: FormObject, known: readonly string[]): void {
  const unknown = Object.keys(params).find((key) => !known.includes(key));
  if (unknown !== undefined) {
    throw StripeFakeError.validation('parameter_unknown', unknown, `Received unknown parameter: ${unknown}`);
  }
}

export function optionalText(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw StripeFakeError.validation('parameter_invalid_string', name, `Invalid string: ${name}`);
  return value;
}

export function requiredText(params: FormObject, name: string): string {
  const value = optionalText(params, name);
  if (value === undefined || value === '') {
    throw StripeFakeError.validation('parameter_missing', name, `Missing required param: ${name}.`);
  }
  return value;
}

export function optionalInteger(params: FormObject, name: string): number | undefined {
  const value = optionalText(params, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw StripeFakeError.validation('parameter_invalid_integer', name, `Invalid integer: ${value}`);
  return Number(value);
}

export function optionalObject(params: FormObject, name: string): FormObject | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (!isFormObject(value)) throw StripeFakeError.validation('parameter_invalid_object', name, `Invalid object: ${name}`);
  return value;
}

/** A list param: `name[0]=…` or `name[]=…`; an empty value clears it. */
export function optionalList(params: FormObject, name: string): FormValue[] {
  const value = params[name];
  if (value === undefined || value === '') return [];
  if (!Array.isArray(value)) throw StripeFakeError.validation('parameter_invalid_array', name, `Invalid array: ${name}`);
  return value;
}

/** Metadata: a flat hash of strings, within Stripe's limits. */
export function metadataParam(params: FormObject): Record<string, string> {
  const given = params['metadata'];
  // Keys that are all digits ("metadata[0]=…") read as a list; metadata is always a hash.
  const raw = Array.isArray(given)
    ? Object.fromEntries(given.map((value, index) => [String(index), value]))
    : (optionalObject(params, 'metadata') ?? {});
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string')
      throw StripeFakeError.validation('parameter_invalid_string', `metadata[${key}]`, `Invalid string: metadata[${key}]`);
    if (key.length > 40)
      throw StripeFakeError.validation('parameter_invalid_string', `metadata[${key}]`, 'Metadata keys must be at most 40 characters.');
    if (value.length > 500)
      throw StripeFakeError.validation('parameter_invalid_string', `metadata[${key}]`, 'Metadata values must be at most 500 characters.');
    if (value !== '') metadata[key] = value;
  }
  if (Object.keys(metadata).length > 50)
    throw StripeFakeError.validation('parameter_invalid_object', 'metadata', 'You can have at most 50 metadata keys.');
  return metadata;
}
