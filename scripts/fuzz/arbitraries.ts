/**
 * Generators of the input people and systems really send, good and bad:
 * text with every kind of trouble in it (control characters, NUL, right-to-
 * left marks, look-alikes, mrkdwn and HTML, SQL and template syntax, huge
 * sizes), values of the wrong type, and deals that are nearly right.
 */
import { INTAKE_FIELDS } from '../../src/domain/intake-match.ts';
import fc from 'fast-check';
import { addDays } from 'date-fns/addDays';
import { isoDay } from '../../src/domain/calendar.ts';

const TROUBLE = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'a\u0000b',
  '\u202eevil',
  '\u200b',
  '\ufeff',
  'Ａｃｍｅ',
  'аcme',
  '株式会社',
  '😀🏳️‍🌈',
  '<script>alert(1)</script>',
  '*bold* _it_ ~s~ `code` <!channel> <@U123> &amp;',
  "'; DROP TABLE tenants; --",
  '${intake.slug}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'toString',
  '..',
  '../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  '120,000',
  '2026-02-30',
  '9999-12-31',
  'acme',
  'acme-corp',
  'ACME',
  '-acme',
  'a--b',
  'www',
  'jane@acme.com',
  'jane@@acme.com',
  'jane@acme',
  'starter',
  'enterprise',
  'eu',
];

/** Strings a person could type or paste, and some only a program would send. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TROUBLE) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...TROUBLE), fc.constantFrom(...TROUBLE)).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.nat({ max: 5000 }).map((n) => 'x'.repeat(n)) },
);

/** Any JSON value, nested a little. */
export const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.anything({ maxDepth: 2, withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withDate: true }),
  },
  { weight: 2, arbitrary: nastyString },
);

/** A value for one field: often a plausible one, often the wrong type or shape. */
export function fieldValue(plausible: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: plausible },
    { weight: 3, arbitrary: nastyString },
    { weight: 1, arbitrary: jsonish },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, 0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e21, [], {}) },
  );
}

const day = (offset: number) => isoDay(addDays(new Date(), offset));

/** Nearly right deals: each field plausible, wrong or missing, plus keys that are not intake fields. */
export function dealLike(plans: readonly string[], residencies: readonly string[], flags: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const fields = fc.record(
    {
      companyName: fieldValue(fc.constantFrom('Acme Corp', 'Globex, Inc.', 'Ünïcödé GmbH', 'O’Brien & Sons')),
      slug: fieldValue(fc.stringMatching(/^[a-z][a-z0-9-]{2,20}[a-z0-9]$/)),
      adminEmail: fieldValue(fc.emailAddress()),
      // Names every object has: a lookup by plan id must not find Object's own.
      plan: fieldValue(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...plans) },
          { weight: 1, arbitrary: fc.constantFrom('constructor', 'toString', '__proto__') },
        ),
      ),
      contractStartDate: fieldValue(fc.integer({ min: -60, max: 400 }).map(day)),
      contractValue: fieldValue(
        fc.oneof(
          fc.nat({ max: 2_000_000 }),
          fc.nat({ max: 2_000_000 }).map((n) => n.toLocaleString('en-US')),
        ),
      ),
      dataResidency: fieldValue(fc.constantFrom(...residencies)),
      featureOverrides: fieldValue(fc.dictionary(fc.oneof(fc.constantFrom(...flags), nastyString), fc.oneof(fc.boolean(), jsonish), { maxKeys: 4 })),
      crmOpportunityId: fieldValue(fc.stringMatching(/^006[A-Za-z0-9]{5,15}$/)),
      requestedBy: fieldValue(fc.constantFrom('jane.ae', 'Jane Ae (U0AE00001)')),
    },
    { requiredKeys: [] },
  );
  const extras = fc.dictionary(nastyString, jsonish, { maxKeys: 2 });
  const anyFields = fc
    .tuple(fields, fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extras }))
    .map(([f, extra]) => ({ ...extra, ...f }));
  // A good deal with one field gone wrong reaches the checks that need every other field right.
  const oneOff = fc
    .tuple(goodDeal(plans, residencies), fc.constantFrom(...INTAKE_FIELDS), fieldValue(fc.constantFrom('constructor', 'toString', '__proto__')))
    .map(([deal, key, value]) => ({ ...deal, [key]: value }));
  return fc.oneof({ weight: 3, arbitrary: anyFields }, { weight: 2, arbitrary: oneOff });
}

/** A deal parseIntake accepts. */
function goodDeal(plans: readonly string[], residencies: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    companyName: fc.constantFrom('Acme Corp', 'Globex Inc'),
    slug: fc.stringMatching(/^[a-z][a-z0-9]{4,12}$/),
    adminEmail: fc.constantFrom('jane@acme.com', 'ops@globex.example'),
    plan: fc.constantFrom(...plans),
    contractStartDate: fc.integer({ min: 0, max: 20 }).map(day),
    contractValue: fc.nat({ max: 500_000 }),
    dataResidency: fc.constantFrom(...residencies),
    featureOverrides: fc.constant({}),
    crmOpportunityId: fc.stringMatching(/^006[A-Za-z0-9]{8}$/),
    requestedBy: fc.constant('jane.ae'),
  });
}

/** Replaces or removes a few leaves of a payload: the shape a sender really uses, with some parts wrong. */
export function damaged(payload: fc.Arbitrary<object>): fc.Arbitrary<unknown> {
  return fc.tuple(payload, fc.array(fc.tuple(fc.nat(), fc.option(jsonish)), { maxLength: 3 })).map(([p, edits]) => {
    const copy: unknown = JSON.parse(JSON.stringify(p));
    for (const [at, value] of edits) editLeaf(copy, at, value);
    return copy;
  });
}

function editLeaf(root: unknown, at: number, value: unknown): void {
  const slots: { parent: object; key: string }[] = [];
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      slots.push({ parent: node, key });
      walk(child);
    }
  };
  walk(root);
  const slot = slots[at % Math.max(1, slots.length)];
  if (!slot) return;
  if (value === null) Reflect.deleteProperty(slot.parent, slot.key);
  else Reflect.set(slot.parent, slot.key, value);
}
