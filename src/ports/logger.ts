/**
 * Structured logging as the core sees it: fields first, then a plain
 * sentence. Lines about a job carry its jobId (and stepId) through child
 * loggers. The adapter (src/adapters/logger.ts) redacts secrets.
 */
export type LogFields = Record<string, unknown>;

export interface Log {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  /** A logger whose every line also carries `bindings` (e.g. `{ jobId, stepId }`). */
  child(bindings: LogFields): Log;
}

/** For parts built without a logger. */
export const silentLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLog,
};
