/**
 * An API client for tests that holds the server to its own OpenAPI document:
 * every answer it receives is looked up in /api/v1/openapi.json by method,
 * path and status, and its content type and body are validated against the
 * schema the document gives (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 has it).
 * An answer the document does not describe fails the test that got it.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';

export type ApiAnswer = { status: number; type: string; headers: Headers; body: Record<string, unknown>; text: string };

const OpenApiDocumentSchema = z.object({
  openapi: z.string(),
  paths: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        responses: z.record(z.string(), z.object({ content: z.record(z.string(), z.object({ schema: z.object({}).loose() })).optional() })),
      }),
    ),
  ),
  components: z.object({ schemas: z.record(z.string(), z.object({}).loose()) }),
});
type OpenApiDocument = z.output<typeof OpenApiDocumentSchema>;

// ajv-formats is CommonJS: its default export is the function under ESM interop.
const addFormats: (ajv: Ajv2020) => Ajv2020 = Reflect.get(addFormatsModule, 'default') ?? addFormatsModule;

const DOCUMENT_ID = 'https://provisioner.test/openapi.json';

export class OpenApiContract {
  private readonly document: OpenApiDocument;
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Every method, path and status an answer was checked for, to say what the tests covered. */
  readonly seen = new Set<string>();

  private constructor(document: OpenApiDocument) {
    this.document = document;
    this.ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: document.components });
  }

  /** Fetches the document the server serves (without a token), and checks its schemas compile. */
  static async of(baseUrl: string): Promise<OpenApiContract> {
    const response = await fetch(`${baseUrl}/api/v1/openapi.json`);
    if (response.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${response.status}`);
    const document = OpenApiDocumentSchema.parse(await response.json());
    if (document.openapi !== '3.1.0') throw new Error(`not an OpenAPI 3.1 document: openapi is ${document.openapi}`);
    const contract = new OpenApiContract(document);
    for (const name of Object.keys(document.components.schemas)) contract.ajv.getSchema(`${DOCUMENT_ID}#/components/schemas/${name}`);
    return contract;
  }

  /** Throws, naming what is wrong, unless the document describes this answer to this request. */
  check(method: string, url: string, answer: ApiAnswer): void {
    const path = new URL(url).pathname.replace(/^\/api\/v1/, '');
    const template = Object.keys(this.document.paths).find((t) => templateMatches(t, path));
    const operation = template ? this.document.paths[template]?.[method.toLowerCase()] : undefined;
    if (!template || !operation) throw new Error(`the OpenAPI document has no ${method} ${path}`);
    const response = operation.responses[String(answer.status)];
    if (!response) throw new Error(`${method} ${template} answered ${answer.status}, which the document does not list`);
    const mediaType = answer.type.split(';')[0]?.trim() ?? '';
    const content = response.content?.[mediaType];
    if (!content)
      throw new Error(`${method} ${template} ${answer.status} answered ${mediaType}; the document says ${Object.keys(response.content ?? {})}`);
    const validate = this.validator(content.schema);
    if (!validate(JSON.parse(answer.text))) {
      throw new Error(
        `${method} ${template} ${answer.status}: body does not match the document: ${this.ajv.errorsText(validate.errors)}\n${answer.text}`,
      );
    }
    this.seen.add(`${method} ${template} ${answer.status}`);
  }

  private validator(schema: object): ValidateFunction {
    const key = JSON.stringify(schema);
    const known = this.compiled.get(key);
    if (known) return known;
    // The document's own references (#/components/…) resolve in the document added above.
    const validate = this.ajv.compile(JSON.parse(key.replaceAll('"#/components/', `"${DOCUMENT_ID}#/components/`)));
    this.compiled.set(key, validate);
    return validate;
  }
}

function templateMatches(template: string, path: string): boolean {
  const pattern = template.split('/').map((part) => (/^\{.+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${pattern.join('/')}$`).test(path);
}

/** Sends requests to the API as one caller and checks every answer against the contract. */
export function apiClient(baseUrl: string, contract: OpenApiContract, token: string | undefined) {
  return async function request(
    method: 'GET' | 'POST',
    path: string,
    opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer> {
    const url = `${baseUrl}/api/v1${path}`;
    const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const response = await fetch(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    const parsed: unknown = JSON.parse(text);
    const record = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.fromEntries(Object.entries(parsed)) : {};
    const answer = { status: response.status, type: response.headers.get('content-type') ?? '', headers: response.headers, body: record, text };
    contract.check(method, url, answer);
    return answer;
  };
}
