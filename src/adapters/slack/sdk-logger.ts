/**
 * The Slack SDKs' (Bolt, WebClient) own log lines, into the process's
 * logger instead of the console: structured, redacted, on stderr.
 */
import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { Log } from '../../ports/logger.ts';

const ORDER: readonly LogLevel[] = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

export function slackSdkLogger(log: Log, component: string): SlackLogger {
  let threshold: LogLevel = LogLevel.WARN;
  const at =
    (level: LogLevel, write: (fields: Record<string, unknown>, message: string) => void) =>
    (...parts: unknown[]): void => {
      if (ORDER.indexOf(level) >= ORDER.indexOf(threshold)) write({ component }, parts.map(text).join(' '));
    };
  return {
    debug: at(LogLevel.DEBUG, (f, m) => log.debug(f, m)),
    info: at(LogLevel.INFO, (f, m) => log.info(f, m)),
    warn: at(LogLevel.WARN, (f, m) => log.warn(f, m)),
    error: at(LogLevel.ERROR, (f, m) => log.error(f, m)),
    setLevel: (level) => {
      threshold = level;
    },
    getLevel: () => threshold,
    setName: () => undefined,
  };
}

function text(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return part.message;
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}
