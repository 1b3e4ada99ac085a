/**
 * The API's OpenAPI 3.1 document, generated from the zod schemas the API
 * checks bodies with and shapes answers through (zod's own toJSONSchema, JSON
 * Schema 2020-12, which OpenAPI 3.1 uses as is): only the paths, statuses and
 * headers are written here, never a schema. Served at /api/v1/openapi.json.
 */
import { z } from 'zod';
import { RESPONSE_SCHEMAS } from './schemas.ts';

export type DocumentSources = {
  /** The body of POST /provisioning-requests (the intake's fields but the requester). */
  provisioningRequest: z.ZodType;
  /** The body of POST /tenants/{slug}/activation-events. */
  activationEvent: z.ZodType;
  /** How large a request body each endpoint takes, for the document to say. */
  bodyLimits: { provisioningRequest: number; activationEvent: number };
};

type Responses = Record<string, object>;

const PROBLEM = 'application/problem+json';

const json = (schema: string, description: string, headers: object = RATE_HEADERS) => ({
  description,
  headers,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
});

const problem = (description: string, headers: object = RATE_HEADERS) => ({
  description,
  headers,
  content: { [PROBLEM]: { schema: { $ref: '#/components/schemas/Problem' } } },
});

const header = (description: string, type: 'string' | 'integer' = 'string') => ({ description, schema: { type } });

const RATE_HEADERS = {
  RateLimit: header('What is left of the caller\'s budget: "per-caller";r=<requests left>;t=<seconds until it is whole again>.'),
  'RateLimit-Policy': header('The caller\'s budget: "per-caller";q=<requests>;w=<window in seconds>.'),
};

/** What every authenticated endpoint may answer besides its own statuses. */
const COMMON: Responses = {
  '401': problem('No bearer token, or one no caller has.', {
    'WWW-Authenticate': header('Bearer realm="provisioner"'),
  }),
  '429': problem("The caller's budget for the minute is spent.", {
    ...RATE_HEADERS,
    'Retry-After': header('Seconds until the budget is whole again.', 'integer'),
  }),
  '500': problem('Our fault; try again later.', {}),
};

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

export function openApiDocument(sources: DocumentSources): object {
  const schemas: Record<string, unknown> = {
    ProvisioningRequest: schemaOf(sources.provisioningRequest, 'input'),
    ActivationEvent: schemaOf(sources.activationEvent, 'input'),
    ...Object.fromEntries(Object.entries(RESPONSE_SCHEMAS).map(([name, schema]) => [name, schemaOf(schema, 'output')])),
  };
  const { provisioningRequest: requestLimit, activationEvent: eventLimit } = sources.bodyLimits;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tenant provisioner API',
      version: '1',
      description:
        'Ask for tenants from a CRM, follow their jobs, and report what tenants use. Every request but this document carries `Authorization: Bearer <token>` (`provisioner api-token create <caller>`). Errors are RFC 9457 problem documents.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths: {
      '/provisioning-requests': {
        post: {
          operationId: 'requestTenant',
          summary: 'Ask for a tenant for a closed deal',
          description: `One CRM opportunity is one tenant: the same deal again answers 200 with its job, another deal on the same opportunity 409. With an Idempotency-Key, the same key and body replay the first answer (24 hours). Bodies up to ${kib(requestLimit)}.`,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'Any unique text of 1 to 255 visible ASCII characters (a UUID, say): a retry with the same key and body gets the first answer.',
              schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ProvisioningRequest' } } } },
          responses: {
            '202': json('ProvisioningAnswer', 'A new job for the deal, started (or waiting for approval).'),
            '200': json('ProvisioningAnswer', 'This opportunity already has a job for the same deal: that job.'),
            '400': problem('The body is not JSON, or the Idempotency-Key header is not one.'),
            '403': problem('This caller may not ask for tenants.'),
            '409': problem(
              'The opportunity belongs to a job for another deal (the differing fields are named), or a request with this Idempotency-Key is still being answered.',
            ),
            '413': problem(`The body is larger than ${kib(requestLimit)}.`),
            '415': problem('The body is not application/json.'),
            '422': problem('Fields are missing or wrong (each named), or the Idempotency-Key was used for another request.'),
            ...COMMON,
          },
        },
      },
      '/jobs/{jobId}': {
        get: {
          operationId: 'getJob',
          summary: 'A job: its state, its steps and, once live, the tenant’s address',
          parameters: [{ name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': json('Job', 'The job.'), '404': problem('No such job.'), ...COMMON },
        },
      },
      '/tenants/{slug}': {
        get: {
          operationId: 'getTenant',
          summary: 'The newest job of the tenant with this slug',
          parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': json('Job', 'The tenant’s newest job.'), '404': problem('No tenant with this slug.'), ...COMMON },
        },
      },
      '/tenants/{slug}/activation-events': {
        post: {
          operationId: 'reportActivation',
          summary: 'The tenant’s people used a workflow',
          parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ActivationEvent' } } } },
          responses: {
            '202': json('ActivationAnswer', 'Kept.'),
            '200': json('ActivationAnswer', 'This event id came before: nothing changed.'),
            '400': problem('The body is not JSON.'),
            '403': problem('Only programs report activation events.'),
            '404': problem('No tenant with this slug.'),
            '413': problem(`The body is larger than ${kib(eventLimit)}.`),
            '415': problem('The body is not application/json.'),
            '422': problem('Fields are missing or wrong (each named).'),
            ...COMMON,
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token made by `provisioner api-token create <caller>`.' },
      },
    },
  };
}

/** One schema as JSON Schema 2020-12: what a client sends (input) or what it receives (output). */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): object {
  // Refinements and transforms stay in the parser; the document states the shape and what the metas say.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  return rest;
}
