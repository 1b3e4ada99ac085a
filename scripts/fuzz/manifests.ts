/**
 * The manifests: loadManifests on the real manifests/*.yaml and seed
 * manifests with one file mutated, in a temporary folder: bytes flipped,
 * lines dropped, doubled or re-indented, scalars swapped for other values,
 * YAML features nobody should use here (alias bombs, deep nesting, tags,
 * merge keys, several documents), bad UTF-8, NUL, a cut-off file, an empty
 * or missing one.
 * Properties: loading either succeeds or throws a ManifestError that names
 * the file at fault (and every problem its file); nothing else is thrown;
 * no stack trace in the message.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { loadManifests, ManifestError } from '../../src/manifests/load.ts';
import { stepTypes } from '../../src/steps/registry.ts';
import { nastyString } from './arbitraries.ts';
import { errorText, type Findings, hasStackTrace } from './findings.ts';

const ROOT = resolve(import.meta.dirname, '../..');

type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: readonly number[] }
  | { kind: 'cut'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'line'; at: number; how: 'drop' | 'double' | 'indent' | 'dedent' | 'tab' }
  | { kind: 'scalar'; at: number; value: string }
  | { kind: 'snippet'; at: number; text: string }
  | { kind: 'replace'; bytes: readonly number[] }
  | { kind: 'remove' };

const BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  ...'bcdefghij'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghij'[i]}`).join(',')}]`),
].join('\n');

const SNIPPETS = [
  BOMB,
  `deep: ${'['.repeat(5000)}${']'.repeat(5000)}`,
  `deep: ${'{a: '.repeat(2000)}1${'}'.repeat(2000)}`,
  'x: !!js/function "function(){}"',
  'x: !!binary aGVsbG8=',
  'x: !custom tag',
  '<<: *undefined_anchor',
  'base: &base {a: 1}\nmerged:\n  <<: *base',
  '---\nsecond: document',
  '...',
  'key: value\nkey: again',
  '? complex key\n: value',
  '\t- tabbed',
  '"unterminated',
  'x: "\\u0000"',
  'x: 1e999',
  'x: .nan',
  '%YAML 1.1\n---',
  'version: 2',
  'steps: []',
  'steps: null',
  'plans: {}',
  '__proto__: {polluted: true}',
  'constructor: {prototype: {}}',
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.constantFrom([0], [0xff], [0xc3, 0x28], [0xef, 0xbb, 0xbf], [0xed, 0xa0, 0x80]),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
    ),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.nat({ max: 200 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('line' as const),
    at: fc.nat(),
    how: fc.constantFrom('drop' as const, 'double' as const, 'indent' as const, 'dedent' as const, 'tab' as const),
  }),
  fc.record({
    kind: fc.constant('scalar' as const),
    at: fc.nat(),
    value: fc.oneof(nastyString, fc.constantFrom('null', '~', '[]', '{}', '-1', '0', 'true', '1.5', '"', "'", '&x', '*x', '|', '>', '? ')),
  }),
  fc.record({ kind: fc.constant('snippet' as const), at: fc.nat(), text: fc.constantFrom(...SNIPPETS) }),
  fc.record({ kind: fc.constant('replace' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }) }),
  fc.constant({ kind: 'remove' as const }),
);

function mutate(original: Buffer, m: Mutation): Buffer | null {
  const at = (n: number) => (original.length === 0 ? 0 : n % (original.length + 1));
  const lines = () => original.toString('utf8').split('\n');
  switch (m.kind) {
    case 'flip': {
      const copy = Buffer.from(original);
      if (copy.length > 0) copy[at(m.at) % copy.length] = m.byte;
      return copy;
    }
    case 'insert':
      return Buffer.concat([original.subarray(0, at(m.at)), Buffer.from(m.bytes), original.subarray(at(m.at))]);
    case 'cut':
      return Buffer.concat([original.subarray(0, at(m.at)), original.subarray(at(m.at) + m.length)]);
    case 'truncate':
      return original.subarray(0, at(m.at));
    case 'line': {
      const all = lines();
      const i = m.at % all.length;
      const line = all[i] ?? '';
      const changed = { drop: [], double: [line, line], indent: [`  ${line}`], dedent: [line.replace(/^ {1,2}/, '')], tab: [`\t${line}`] }[m.how];
      return Buffer.from([...all.slice(0, i), ...changed, ...all.slice(i + 1)].join('\n'));
    }
    case 'scalar': {
      // The value after some "key: " is swapped for another.
      const all = lines();
      const keyed = all.map((l, i) => [l, i] as const).filter(([l]) => /^\s*-?\s*[\w.-]+:\s+\S/.test(l));
      const [line, i] = keyed[m.at % Math.max(1, keyed.length)] ?? ['', 0];
      all[i] = line.replace(/:\s+.*$/, `: ${m.value}`);
      return Buffer.from(all.join('\n'));
    }
    case 'snippet': {
      const all = lines();
      all.splice(m.at % (all.length + 1), 0, m.text);
      return Buffer.from(all.join('\n'));
    }
    case 'replace':
      return Buffer.from(m.bytes);
    case 'remove':
      return null;
  }
}

export function fuzzManifests(findings: Findings, cases: number, seed: number): void {
  const base = mkdtempSync(join(tmpdir(), 'fuzz-manifests-'));
  const originals = new Map<string, Buffer>();
  for (const name of ['plans.yaml', 'pipeline.yaml']) originals.set(join('manifests', name), readFileSync(join(ROOT, 'manifests', name)));
  for (const name of readdirSync(join(ROOT, 'seed-manifests')))
    originals.set(join('seed-manifests', name), readFileSync(join(ROOT, 'seed-manifests', name)));
  const files = [...originals.keys()];
  try {
    for (const [fileIndex, mutations] of fc.sample(fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 })), {
      numRuns: cases,
      seed,
    })) {
      const index = findings.tried('manifests');
      const file = files[fileIndex % files.length] ?? 'manifests/plans.yaml';
      const dir = join(base, String(index));
      let content: Buffer | null = originals.get(file) ?? Buffer.alloc(0);
      for (const m of mutations) content = content === null ? null : mutate(content, m);
      writeTree(dir, originals, file, content);
      checkLoad(findings, index, dir, files, { file, mutations });
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

function writeTree(dir: string, originals: ReadonlyMap<string, Buffer>, mutated: string, content: Buffer | null): void {
  mkdirSync(join(dir, 'manifests'), { recursive: true });
  mkdirSync(join(dir, 'seed-manifests'), { recursive: true });
  for (const [name, bytes] of originals) {
    if (name !== mutated) writeFileSync(join(dir, name), bytes);
    else if (content !== null) writeFileSync(join(dir, name), content);
  }
}

function checkLoad(findings: Findings, index: number, dir: string, known: readonly string[], input: unknown): void {
  try {
    loadManifests({
      manifestsDir: join(dir, 'manifests'),
      seedDir: join(dir, 'seed-manifests'),
      stepTypes,
      webhookEndpoints: new Set(['cs_platform', 'slack_notice']),
    });
  } catch (err) {
    if (!(err instanceof ManifestError)) {
      findings.crash('manifests', index, `loadManifests threw ${errorText(err)} instead of a ManifestError`, input);
      return;
    }
    if (hasStackTrace(err.message)) findings.crash('manifests', index, `stack trace in the message: ${err.message.slice(0, 300)}`, input);
    // The file at fault (the mutated one, or one that depends on it, as plans.yaml on a seed), or the folder when several are.
    const names = [...known, 'manifests', 'seed-manifests'];
    if (!names.some((n) => err.file.endsWith(n)))
      findings.unnamed('manifests', index, `ManifestError names ${JSON.stringify(err.file)}, no manifest file`, input);
    for (const p of err.problems) {
      if (p.file.trim() === '') findings.unnamed('manifests', index, `a problem names no file: ${p.message}`, input);
    }
  }
}
