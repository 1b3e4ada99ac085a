/**
 * Okta's `search` and `filter` expressions, enough for provisioning code:
 * `profile.name eq "Admins"`, `profile.login sw "jane"`, `status eq
 * "ACTIVE"`, joined by `and`/`or` (no parentheses). Strings compare
 * case-insensitively, as Okta does for logins and names.
 */
import { OktaFakeError, type Json } from './wire.ts';

type Operator = 'eq' | 'ne' | 'sw' | 'co' | 'pr';
type Clause = { attribute: string; operator: Operator; value: string };

/** Any of the groups matches when all of its clauses match. */
export type Search = readonly (readonly Clause[])[];

const CLAUSE = /^\s*([A-Za-z_][\w.]*)\s+(eq|ne|sw|co|pr)\b\s*("(?:[^"\\]|\\.)*"|true|false|-?\d+)?\s*/i;
const JOIN = /^(and|or)\s+/i;

function isOperator(word: string): word is Operator {
  return ['eq', 'ne', 'sw', 'co', 'pr'].includes(word);
}

function unquote(token: string): string {
  if (!token.startsWith('"')) return token;
  return token.slice(1, -1).replace(/\\(.)/g, '$1');
}

export function parseSearch(expression: string): Search {
  const groups: Clause[][] = [[]];
  let rest = expression.trim();
  while (rest.length > 0) {
    const clause = CLAUSE.exec(rest);
    const operator = clause?.[2]?.toLowerCase() ?? '';
    const attribute = clause?.[1];
    if (!clause || attribute === undefined || !isOperator(operator) || (operator !== 'pr' && clause[3] === undefined)) {
      throw new OktaFakeError(400, 'E0000031');
    }
    groups.at(-1)?.push({ attribute, operator, value: unquote(clause[3] ?? '') });
    rest = rest.slice(clause[0].length);
    if (rest.length === 0) break;
    const join = JOIN.exec(rest);
    if (!join) throw new OktaFakeError(400, 'E0000031');
    if (join[1]?.toLowerCase() === 'or') groups.push([]);
    rest = rest.slice(join[0].length);
  }
  return groups;
}

function read(resource: Json, attribute: string): Json | undefined {
  let node: Json | undefined = resource;
  for (const part of attribute.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = node[part];
  }
  return node;
}

function holds(clause: Clause, resource: Json): boolean {
  const found = read(resource, clause.attribute);
  if (clause.operator === 'pr') return found !== undefined && found !== null;
  if (found === undefined || found === null || typeof found === 'object') return false;
  const actual = String(found).toLowerCase();
  const wanted = clause.value.toLowerCase();
  if (clause.operator === 'eq') return actual === wanted;
  if (clause.operator === 'ne') return actual !== wanted;
  if (clause.operator === 'sw') return actual.startsWith(wanted);
  return actual.includes(wanted);
}

export function matches(search: Search, resource: Json): boolean {
  return search.some((clauses) => clauses.every((clause) => holds(clause, resource)));
}

/** Applies `search` (or `filter`) from the query string, when present. */
export function searched<T>(query: URLSearchParams, items: Iterable<T>, render: (item: T) => Json): T[] {
  const expression = query.get('search') ?? query.get('filter');
  const all = [...items];
  if (expression === null || expression.trim() === '') return all;
  if (query.has('search') && query.has('filter')) throw new OktaFakeError(400, 'E0000031');
  const search = parseSearch(expression);
  return all.filter((item) => matches(search, render(item)));
}
