/**
 * A Redis restart is one outage, not a stream of errors. ioredis reconnects
 * by itself and emits an 'error' for every failed attempt (an instance with
 * no listener prints "[ioredis] Unhandled error event" on the console each
 * time), and BullMQ passes each one on. Every connection and every BullMQ
 * object reports the first, then nothing until Redis is ready again.
 */
import type { Redis } from 'ioredis';

/** The codes and messages of "Redis is not there", as opposed to an error in a command. */
const CONNECTION_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const CONNECTION_MESSAGES = /Connection is closed|Reached the max retries per request limit|Stream isn't writeable|connect ETIMEDOUT/;

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = 'code' in err ? err.code : undefined;
  return (typeof code === 'string' && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(err.message);
}

/** Gives `redis` an error listener that reports once per outage: the first error after each time it was ready. */
export function reportLostConnection(redis: Redis, report: (err: unknown) => void): void {
  let reported = false;
  redis.on('error', (err: unknown) => {
    if (!reported) report(err);
    reported = true;
  });
  redis.on('ready', () => {
    reported = false;
  });
}

/**
 * For parts whose errors come through another emitter (BullMQ's queues, workers, queue events): the first
 * connection error each part sees is reported, the rest of that outage is not, until `redis` is ready again.
 * Other errors are always reported.
 */
export class OutageReports {
  private readonly reported = new Set<string>();

  constructor(redis: Redis) {
    redis.on('ready', () => this.reported.clear());
  }

  filter(where: string, report: (err: unknown) => void): (err: unknown) => void {
    return (err) => {
      if (isConnectionError(err)) {
        if (this.reported.has(where)) return;
        this.reported.add(where);
      }
      report(err);
    };
  }
}
