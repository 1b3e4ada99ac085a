/**
 * Salesforce Outbound Messages over real HTTP: the samples Salesforce sends
 * (test/fixtures/salesforce), mutated (text cut, repeated, inserted, fields
 * replaced with nasty values, entities and document types slipped in), and
 * bodies of any shape, posted to the app's endpoint with its secret.
 * Properties: never a dropped request, never a 5xx but a SOAP fault naming a
 * problem, every refusal a fault with a faultstring, no stack trace in any
 * answer, nothing our code fails on (onError); and an ack only for a
 * well-formed envelope without a document type, after which every
 * opportunity it carries is a job or a deal waiting for a person.
 */
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { MongoClient } from 'mongodb';
import { escapeXml } from '../../src/http/routes/webhooks/salesforce/soap.ts';
import { startTestApp, stopTestApp, type TestApp } from '../../test/support/harness.ts';
import { pipelineOf, sandbox } from '../../test/support/pipeline.ts';
import { ACK, postEnvelope, salesforceEnv, sample, withNotifications, type SoapAnswer } from '../../test/support/salesforce.ts';
import { nastyString } from './arbitraries.ts';
import { errorText, type Findings, hasStackTrace } from './findings.ts';

const TARGET = 'salesforce';
/** Messages in flight at once, as Salesforce sends several. */
const IN_FLIGHT = 4;
const ANSWER_WITHIN_MS = 15_000;

type Mutation =
  | { kind: 'cut'; at: number; length: number }
  | { kind: 'repeat'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'value'; at: number; text: string; escaped: boolean };

const SAMPLES = [sample('one-opportunity'), sample('two-opportunities'), withNotifications(3)];

/** Things a hostile or broken sender puts in XML. */
const XML_TROUBLE = [
  '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
  '<!ENTITY e "e">',
  '&e;',
  '&lt;',
  '&#0;',
  '&#x110000;',
  '<![CDATA[<Ack>true</Ack>]]>',
  '<?xml version="1.0"?>',
  '<sf:Id>0065e00000B1gLxAAJ</sf:Id>',
  '<Notification><Id>04l5e00000Gx7QzAAJ</Id></Notification>',
  'xmlns:sf="urn:other"',
  '<x:y/>',
  '</notifications>',
  '<a>'.repeat(40),
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 60 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...XML_TROUBLE), nastyString) }),
  fc.record({ kind: fc.constant('value' as const), at: fc.nat(), text: nastyString, escaped: fc.boolean() }),
);

function mutate(xml: string, m: Mutation): string {
  const at = m.at % (xml.length + 1);
  if (m.kind === 'cut') return xml.slice(0, at) + xml.slice(at + m.length);
  if (m.kind === 'repeat') return xml.slice(0, at) + xml.slice(at, at + m.length) + xml.slice(at);
  if (m.kind === 'insert') return xml.slice(0, at) + m.text + xml.slice(at);
  // The text of one element (counted through the document) replaced: a field Salesforce sent with another value.
  const texts = [...xml.matchAll(/>([^<>]+)</g)];
  const chosen = texts[m.at % Math.max(1, texts.length)];
  if (!chosen || chosen.index === undefined) return xml;
  const value = m.escaped ? escapeXml(m.text) : m.text;
  return `${xml.slice(0, chosen.index + 1)}${value}${xml.slice(chosen.index + 1 + (chosen[1]?.length ?? 0))}`;
}

const envelopes: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(fc.constantFrom(...SAMPLES), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([xml, ms]) => ms.reduce(mutate, xml)),
  },
  { weight: 1, arbitrary: fc.constantFrom(...SAMPLES) },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.constantFrom(...XML_TROUBLE) },
);

export async function fuzzSalesforce(findings: Findings, cases: number, seed: number): Promise<void> {
  const errors: unknown[] = [];
  const app = await startTestApp({
    pipeline: pipelineOf(sandbox('database')),
    serveWeb: true,
    env: salesforceEnv(),
    onError: (err) => errors.push(err),
  });
  const mongo = new MongoClient(app.config.mongoUri);
  try {
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = await app.web.listen(0);
    const queue = fc.sample(envelopes, { numRuns: cases, seed }).entries();
    const sender = async () => {
      for (const [, xml] of queue) await send(findings, { app, mongo, url }, findings.tried(TARGET), xml);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
    for (const err of errors) findings.crash(TARGET, -1, `our code failed on a message: ${errorText(err)}`, err instanceof Error ? err.stack : err);
  } finally {
    await mongo.close();
    await stopTestApp(app);
  }
}

type Under = { app: TestApp; mongo: MongoClient; url: string };

async function send(findings: Findings, under: Under, index: number, xml: string): Promise<void> {
  let answer: SoapAnswer;
  try {
    answer = await Promise.race([
      postEnvelope(under.url, xml),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer')), ANSWER_WITHIN_MS).unref()),
    ]);
  } catch (err) {
    findings.crash(TARGET, index, `no answer within ${ANSWER_WITHIN_MS / 1000} s: ${errorText(err)}`, xml);
    return;
  }
  if (hasStackTrace(answer.body)) findings.crash(TARGET, index, `stack trace in the answer: ${answer.body.slice(0, 300)}`, xml);
  if (answer.status === 200) return judgeAck(findings, under, index, xml, answer);
  if (!answer.fault || answer.fault.reason.trim() === '') {
    const kind = answer.status >= 500 ? 'crash' : 'unnamed';
    findings[kind](TARGET, index, `HTTP ${answer.status} without a SOAP fault naming the problem: ${answer.body.slice(0, 200)}`, xml);
  } else if (answer.status >= 500 && answer.status !== 500) {
    findings.crash(TARGET, index, `HTTP ${answer.status}: ${answer.fault.reason}`, xml);
  }
}

/** An ack is a promise: the envelope was one, and every opportunity in it is now a job or waits for a person. */
async function judgeAck(findings: Findings, under: Under, index: number, xml: string, answer: SoapAnswer): Promise<void> {
  if (answer.body !== ACK) findings.crash(TARGET, index, `HTTP 200 that is not the acknowledgement: ${answer.body.slice(0, 200)}`, xml);
  if (XMLValidator.validate(xml) !== true || /<!DOCTYPE|<!ENTITY/i.test(xml)) {
    findings.crash(TARGET, index, 'acknowledged a malformed envelope', xml);
    return;
  }
  const pending = under.mongo.db(under.app.dbName).collection('pending_intakes');
  for (const [, opportunityId = ''] of xml.matchAll(/<sf:Id>\s*(006[A-Za-z0-9]{12,15})\s*<\/sf:Id>/g)) {
    const job = await under.app.store.findByOpportunity(opportunityId);
    if (!job && (await pending.countDocuments({ opportunityId })) === 0) {
      findings.crash(TARGET, index, `acknowledged, but opportunity ${opportunityId} is neither a job nor waiting for a person`, xml);
    }
  }
}
