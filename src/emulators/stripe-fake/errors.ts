/**
 * Stripe's error envelope, `{ error: { type, code?, message, param? } }`, and
 * when each kind happens. The stage decides idempotent replay: Stripe saves
 * a result only once the endpoint began executing, so a request rejected
 * while its parameters are validated can be retried under the same key
 * (docs.stripe.com/idempotency).
 */

export type StripeErrorBody = {
  type: 'invalid_request_error' | 'api_error' | 'idempotency_error' | 'card_error';
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
};

/** 'validation': refused before the endpoint ran (not saved for replay); 'execution': saved. */
export type FailureStage = 'validation' | 'execution';

export class StripeFakeError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  readonly stage: FailureStage;

  constructor(status: number, body: StripeErrorBody, stage: FailureStage) {
    super(body.message);
    this.status = status;
    this.body = body;
    this.stage = stage;
  }

  static validation(code: string, param: string, message: string): StripeFakeError {
    return new StripeFakeError(400, { type: 'invalid_request_error', code, param, message }, 'validation');
  }

  /** A parameter names an object that does not exist: found out while executing. */
  static missingReference(kind: string, id: string, param: string): StripeFakeError {
    return new StripeFakeError(
      400,
      { type: 'invalid_request_error', code: 'resource_missing', param, message: `No such ${kind}: '${id}'`, doc_url: DOC_URL.resourceMissing },
      'execution',
    );
  }

  /** The object in the URL does not exist. */
  static notFound(kind: string, id: string): StripeFakeError {
    return new StripeFakeError(
      404,
      { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message: `No such ${kind}: '${id}'`, doc_url: DOC_URL.resourceMissing },
      'execution',
    );
  }

  static invalid(param: string, message: string): StripeFakeError {
    return new StripeFakeError(400, { type: 'invalid_request_error', param, message }, 'execution');
  }
}

const DOC_URL = { resourceMissing: 'https://stripe.com/docs/error-codes/resource-missing' } as const;

export function unrecognizedUrl(method: string, path: string): { status: number; body: { error: StripeErrorBody } } {
  return {
    status: 404,
    body: {
      error: {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      },
    },
  };
}

/** "sk_test_abcdef…wxyz" → "sk_test_****…wxyz": what Stripe shows of a wrong key. */
export function maskKey(key: string): string {
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? '';
  const rest = key.slice(prefix.length);
  const visible = rest.length > 8 ? rest.slice(-4) : '';
  return `${prefix}${'*'.repeat(Math.max(rest.length - visible.length, 4))}${visible}`;
}

export function authenticationError(key: string | undefined): { status: number; body: { error: StripeErrorBody } } {
  const message =
    key === undefined
      ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
      : `Invalid API Key provided: ${maskKey(key)}`;
  return { status: 401, body: { error: { type: 'invalid_request_error', message } } };
}

/** What an injected failure answers, in the shapes Stripe sends for each status. */
export function injectedError(status: number): { error: StripeErrorBody } {
  if (status === 429) {
    return {
      error: {
        type: 'invalid_request_error',
        code: 'rate_limit',
        message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
        doc_url: 'https://stripe.com/docs/error-codes/rate-limit',
      },
    };
  }
  if (status >= 500) return { error: { type: 'api_error', message: 'An unknown error occurred' } };
  return { error: { type: 'invalid_request_error', message: `Injected failure (HTTP ${status})` } };
}

export function idempotencyMismatch(key: string): { status: number; body: { error: StripeErrorBody } } {
  return {
    status: 400,
    body: {
      error: {
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      },
    },
  };
}
