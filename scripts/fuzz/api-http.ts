/**
 * The HTTP API: POST /api/v1/provisioning-requests over real HTTP with
 * bodies of any shape (nearly right deals, any JSON, JSON that is not an
 * object, broken JSON, numbers past a double), content types, tokens and
 * Idempotency-Keys, against the server `provisioner serve` runs.
 * Properties: never a 5xx, never a stack trace; every refusal is an RFC 9457
 * problem document with its status and title, and a 422 names every field
 * it refuses.
 */
import fc from 'fast-check';
import { tokenHash } from '../../src/domain/api-callers.ts';
import { startTestApp, stopTestApp } from '../../test/support/harness.ts';
import { pipelineOf, sandbox } from '../../test/support/pipeline.ts';
import { DEAL_FIELDS } from '../../src/domain/intake-match.ts';
import { dealLike, fieldValue, jsonish, nastyString } from './arbitraries.ts';
import { errorText, type Findings, hasStackTrace } from './findings.ts';

const TOKEN = 'prov_fuzz-crm-token-0123456789abcdefghijklmno';
const TARGET = 'api';
const IN_FLIGHT = 4;

/** The n-th deal a CRM could send: valid, its opportunity id and slug its own. */
function crmDeal(n: number): Record<string, unknown> {
  return {
    companyName: `Fuzz Co ${n}`,
    slug: `fuzz-co-${n}`,
    adminEmail: 'it-admin@fuzz.example',
    plan: 'starter',
    contractStartDate: new Date().toISOString().slice(0, 10),
    contractValue: 12_000,
    crmOpportunityId: `006FUZZ${n}`,
  };
}

type Request = { body: string; contentType: string | undefined; token: string | undefined; idempotencyKey: string | undefined };

function requests(plans: string[], residencies: string[], flags: string[]): fc.Arbitrary<Request> {
  const deal = dealLike(plans, residencies, flags).map((d) => JSON.stringify(d) ?? 'null');
  // A deal the CRM could well send, with up to two fields changed: new jobs, the same deal again (a few
  // opportunity ids recur), another deal on a taken opportunity.
  const almostRight = fc
    .tuple(fc.nat({ max: 30 }), fc.dictionary(fc.constantFrom(...DEAL_FIELDS), fieldValue(nastyString), { maxKeys: 2 }))
    .map(([n, changes]) => JSON.stringify({ ...crmDeal(n), ...changes }));
  const body = fc.oneof(
    { weight: 4, arbitrary: almostRight },
    { weight: 4, arbitrary: deal },
    { weight: 2, arbitrary: jsonish.map((v) => JSON.stringify(v) ?? 'null') },
    // Broken JSON: a deal cut short, numbers no double holds, prototype keys, raw text.
    { weight: 1, arbitrary: fc.tuple(deal, fc.nat()).map(([text, at]) => text.slice(0, at % Math.max(1, text.length))) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"contractValue": 1e999}',
        '{"contractValue": -0}',
        '{"__proto__": {"x": 1}}',
        '{"constructor": {"prototype": {}}}',
      ),
    },
    { weight: 1, arbitrary: nastyString },
  );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'APPLICATION/JSON'),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const token = fc.oneof(
    { weight: 9, arbitrary: fc.constant(TOKEN) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, 'prov_wrong', `${TOKEN}x`) },
  );
  const idempotencyKey = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom('key-1', 'key-2', 'f3b5c7e2-9a41-4d1e-8f0a-2b6c1d9e7a55') },
    { weight: 1, arbitrary: nastyString },
  );
  return fc.record({ body, contentType, token, idempotencyKey });
}

export async function fuzzApi(findings: Findings, cases: number, seed: number): Promise<void> {
  const app = await startTestApp({
    pipeline: pipelineOf(sandbox('database')),
    serveWeb: true,
    env: { API_CALLERS: `salesforce=sha256:${tokenHash(TOKEN)}`, API_RATE_LIMIT_PER_MINUTE: '1000000' },
  });
  try {
    if (!app.web) throw new Error('the HTTP server was not composed');
    const url = `${await app.web.listen(0)}/api/v1/provisioning-requests`;
    const { plans } = app.manifests;
    const queue = fc
      .sample(requests(Object.keys(plans.plans), plans.dataResidencies, Object.keys(plans.featureFlags)), { numRuns: cases, seed })
      .entries();
    const sender = async () => {
      for (const [, request] of queue) await send(findings, url, findings.tried(TARGET), request);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  } finally {
    await stopTestApp(app);
  }
}

async function send(findings: Findings, url: string, index: number, request: Request): Promise<void> {
  const headers: Record<string, string> = {};
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  if (request.token !== undefined) headers['authorization'] = `Bearer ${request.token}`;
  if (request.idempotencyKey !== undefined) headers['idempotency-key'] = request.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: request.body });
  } catch (err) {
    // A header no HTTP client can send (a line break, a character past Latin-1) never reaches us.
    if (err instanceof TypeError && /header|ByteString/i.test(`${err.message} ${errorText(err.cause)}`)) return;
    findings.crash(TARGET, index, `no answer: ${errorText(err)}`, request);
    return;
  }
  const text = await response.text();
  const verdict = judge(response.status, response.headers.get('content-type') ?? '', text);
  if (verdict?.kind === 'crash') findings.crash(TARGET, index, verdict.what, request);
  if (verdict?.kind === 'unnamed') findings.unnamed(TARGET, index, verdict.what, request);
}

type Verdict = { kind: 'crash' | 'unnamed'; what: string } | undefined;

function judge(status: number, type: string, text: string): Verdict {
  if (status >= 500) return { kind: 'crash', what: `answered ${status}: ${text.slice(0, 200)}` };
  if (hasStackTrace(text)) return { kind: 'crash', what: `stack trace in the answer: ${text.slice(0, 200)}` };
  if (status < 400) return undefined;
  const problem = parsed(text);
  if (!type.startsWith('application/problem+json') || problem === undefined)
    return { kind: 'unnamed', what: `${status} is not a problem document (${type})` };
  if (problem['status'] !== status || typeof problem['title'] !== 'string' || typeof problem['detail'] !== 'string') {
    return { kind: 'unnamed', what: `${status} problem without its status, title or detail` };
  }
  // A 422 about the fields names each; one about the Idempotency-Key says so in its detail.
  if (status !== 422 || String(problem['detail']).includes('Idempotency-Key')) return undefined;
  const errors = problem['errors'];
  const named =
    Array.isArray(errors) &&
    errors.length > 0 &&
    errors.every((e) => typeof e?.field === 'string' && e.field !== '' && typeof e?.detail === 'string');
  return named ? undefined : { kind: 'unnamed', what: `422 without every field named: ${text.slice(0, 200)}` };
}

function parsed(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : undefined;
  } catch {
    return undefined;
  }
}
