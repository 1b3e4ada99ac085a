/**
 * Structured logging as the core sees it: fields first, then a plain
 * sentence. Lines about a job carry its jobId (and stepId) through child
 * loggers. The adapter (src/adapters/logger.ts) redacts secrets.
 */
export type LogFields = Record<string, unknown>;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Log {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  /** A logger whose every line also carries `bindings` (e.g. `{ jobId, stepId }`). */
  child(bindings: LogFields): Log;
  /** Whether a line at `level` would be written. */
  isLevelEnabled(level: LogLevel): boolean;
}

/** For parts built without a logger. */
export const silentLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLog,
  isLevelEnabled: () => false,
};

/**
 * `parent.child(bindings)`, made on its first line written: a child logger costs a few microseconds to make,
 * and most step activations write no line at the configured level.
 */
export function lazyChild(parent: Log, bindings: LogFields): Log {
  let made: Log | undefined;
  const log = (): Log => {
    made ??= parent.child(bindings);
    return made;
  };
  const at =
    (level: LogLevel) =>
    (fields: LogFields, message: string): void => {
      if (parent.isLevelEnabled(level)) log()[level](fields, message);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => lazyChild(parent, { ...bindings, ...more }),
    isLevelEnabled: (level) => parent.isLevelEnabled(level),
  };
}
