/**
 * The process's logger (pino): JSON lines for a log pipeline in production,
 * pretty lines for people at a terminal in the local profile, always on
 * stderr (stdout is the CLI's). Secrets are kept out twice over: fields
 * named like secrets are censored by path, and every string (messages,
 * fields, error messages and stacks) goes through the domain's text
 * redaction, which knows the shapes of tokens and keys.
 */
import { trace } from '@opentelemetry/api';
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { ObservabilityConfig } from '../config.ts';
import { isSecretKey, REDACTED, redactText } from '../domain/redact.ts';

export type { Logger };

/**
 * Censored wherever they appear one level down, and in HTTP requests
 * serialized after the field redaction has run (Fastify's req/res).
 */
const SECRET_FIELDS = [
  'token',
  'accessToken',
  'botToken',
  'appToken',
  'password',
  'secret',
  'signingSecret',
  'apiKey',
  'api_key',
  'secretKey',
  'privateKey',
  'authorization',
  'cookie',
  'credentials',
];
export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
];

/** Deep enough for any log line we write; deeper values are censored rather than walked. */
const MAX_DEPTH = 8;

export type LoggerOptions = ObservabilityConfig['log'] & {
  /** Where lines go (default stderr); tests pass a stream to read them. */
  destination?: DestinationStream;
};

export function createLogger(opts: LoggerOptions): Logger {
  const sink = opts.destination ?? pino.destination({ dest: 2, sync: true });
  const stream =
    opts.format === 'pretty'
      ? pretty({ destination: sink, colorize: process.stderr.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
      : sink;
  return pino(
    {
      level: opts.level,
      // With tracing on, a line written inside a span names it, so the log and the trace find each other.
      mixin: () => {
        const span = trace.getActiveSpan()?.spanContext();
        return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
      },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: (value: unknown) => scrub(value, 0) },
      formatters: {
        log: (fields) => scrubFields(fields),
        bindings: (bindings) => scrubFields(bindings),
      },
      hooks: {
        // Messages (and printf-style arguments) are text: redact the shapes of secrets in them.
        logMethod(args, method) {
          const [first, given, ...rest] = args;
          // Without a message pino uses the error's own, after this hook: give it the redacted one.
          const message = given ?? errorMessage(first);
          method.apply(this, [textRedacted(first), message === undefined ? undefined : redactText(message), ...rest.map(textRedacted)]);
        },
      },
    },
    stream,
  );
}

/** The message of an error logged on its own (`log.error(err)`) or as `{ err }`. */
function errorMessage(first: unknown): string | undefined {
  if (first instanceof Error) return first.message;
  if (first === null || typeof first !== 'object') return undefined;
  const err: unknown = Reflect.get(first, 'err');
  return err instanceof Error && Reflect.get(first, 'msg') === undefined ? err.message : undefined;
}

function textRedacted(value: unknown): unknown {
  return typeof value === 'string' ? redactText(value) : value;
}

function scrubFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = isSecretKey(key) ? REDACTED : scrub(value, 1);
  return out;
}

/** Strings redacted, errors turned into plain { type, message, stack, … }, secret-named fields censored. */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return REDACTED;
  if (value instanceof Error) return scrub({ ...stdSerializers.err(value) }, depth + 1);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Date) return value;
  // A top-level request or response has a serializer (and the redact paths) of its own. Deeper down, an
  // SDK's response or stream inside an error would be dumped whole, headers and all: name it instead.
  if (!isPlainObject(value)) return depth <= 1 ? value : `[${value.constructor?.name ?? 'object'}]`;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = isSecretKey(key) ? REDACTED : scrub(v, depth + 1);
  return out;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
