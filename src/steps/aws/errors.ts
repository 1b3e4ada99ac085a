/**
 * What an AWS SDK failure means for a step. SDK v3 errors carry the service's
 * error code as `name` and the HTTP status in `$metadata.httpStatusCode`; an
 * error without a status never got an answer (refused connection, DNS, abort).
 * Read structurally so one helper serves every AWS client.
 */
import { TransientError } from '../../domain/errors.ts';

export type AwsFailure = {
  /** The service's error code, e.g. "ThrottlingException", or the JS error name when nothing answered. */
  code: string;
  /** The service's message, whitespace collapsed (moto pads some messages). */
  message: string;
  /** undefined: no HTTP answer at all. */
  httpStatus: number | undefined;
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function awsFailure(err: unknown): AwsFailure {
  if (!(err instanceof Error)) return { code: 'Error', message: String(err), httpStatus: undefined };
  const metadata: unknown = Reflect.get(err, '$metadata');
  const status = isRecord(metadata) ? metadata['httpStatusCode'] : undefined;
  return {
    code: err.name,
    message: err.message.replace(/\s+/g, ' ').trim(),
    httpStatus: typeof status === 'number' ? status : undefined,
  };
}

/** True when the service answered with one of these error codes. */
export function isAwsError(err: unknown, ...codes: readonly string[]): boolean {
  return err instanceof Error && codes.includes(err.name);
}

const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
]);

const SERVER_TROUBLE_CODES: ReadonlySet<string> = new Set([
  'InternalFailure',
  'InternalError',
  'InternalServiceError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const ACCESS_DENIED_CODES: ReadonlySet<string> = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'NotAuthorizedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
]);

export function isAccessDenied(failure: AwsFailure): boolean {
  return ACCESS_DENIED_CODES.has(failure.code) || failure.httpStatus === 403;
}

/** Throttling, a 429 or 5xx, or no answer at all: waiting and trying again can help. */
export function isTransientAwsFailure(failure: AwsFailure): boolean {
  if (THROTTLING_CODES.has(failure.code) || SERVER_TROUBLE_CODES.has(failure.code)) return true;
  if (failure.httpStatus === undefined) return true;
  return failure.httpStatus === 429 || failure.httpStatus >= 500;
}

/** A short message naming the service; never the request, so no value we sent can leak. */
export function transientAwsError(service: string, failure: AwsFailure): TransientError {
  if (THROTTLING_CODES.has(failure.code) || failure.httpStatus === 429) {
    return new TransientError(`${service} is throttling requests (${failure.code}); will try again`);
  }
  if (failure.httpStatus === undefined) {
    return new TransientError(`${service} could not be reached (${failure.code}: ${failure.message})`);
  }
  return new TransientError(`${service} had a temporary problem (HTTP ${failure.httpStatus} ${failure.code})`);
}
