/**
 * Every MongoClient the product makes (the store's, the tenant data's), built
 * one way and kept recovering.
 *
 * Why a guard: with the mongodb 7.x driver, a server restart can leave the
 * client's server monitor stuck for good. The monitor's heartbeat `hello` is
 * written to a connection whose socket was just destroyed but whose close the
 * driver has not handled yet (cmap/connection.js `writeCommand`): the write
 * returns false, the destroyed socket never emits 'drain' nor 'error', and
 * closing the connection afterwards settles only a pending read, not a
 * pending write. The monitor (sdam/monitor.js) stays "monitoring", so every
 * later check request is ignored; FerretDB reports no topologyVersion, so
 * `Monitor.reset()` does nothing either. The server stays Unknown and every
 * operation fails server selection from then on. No client option avoids it
 * (on FerretDB the monitor already polls), so the guard watches the monitor
 * through the driver's public heartbeat events and, when a heartbeat stays
 * unanswered far longer than one can take, closes the client's topology and
 * connects a fresh one: the same MongoClient, so every Db and collection
 * handle stays valid.
 *
 * `boundedCalls` then makes every store call end within a deadline, with a
 * named, retryable error: a call never hangs, whatever the driver does.
 */
import {
  MongoBulkWriteError,
  MongoClient,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type MongoClientOptions,
  type ServerHeartbeatFailedEvent,
  type ServerHeartbeatStartedEvent,
  type ServerHeartbeatSucceededEvent,
} from 'mongodb';
import { StoreUnavailableError } from '../domain/errors.ts';
import type { Log } from '../ports/logger.ts';

/**
 * - poll: every heartbeat is one `hello` bounded by connectTimeoutMS (the streaming protocol's awaited
 *   hello waits up to heartbeatFrequencyMS on purpose), so a heartbeat unanswered for long means a stall.
 *   FerretDB has no streaming protocol anyway; on real MongoDB polling costs one small command a heartbeat.
 * - serverSelectionTimeoutMS: an operation waits this long for the server to come back, then fails
 *   (the caller retries), instead of the driver's 30 s.
 * - socketTimeoutMS: a server that stops answering (paused, half-open connection) fails the call
 *   instead of holding it forever; far above any single query here.
 * - retryReads / retryWrites: one retry after a dropped connection, where the server supports it
 *   (FerretDB is a standalone without retryable writes: the driver then skips the write retry).
 */
export const MONGO_CLIENT_OPTIONS = {
  serverMonitoringMode: 'poll',
  heartbeatFrequencyMS: 2_000,
  connectTimeoutMS: 5_000,
  serverSelectionTimeoutMS: 10_000,
  socketTimeoutMS: 60_000,
  retryReads: true,
  retryWrites: true,
} as const satisfies MongoClientOptions;

/** How long a store call may take before its caller is told the store is unavailable. */
export const STORE_CALL_DEADLINE_MS = 90_000;

/** A heartbeat takes at most a connect and a hello (each bounded by connectTimeoutMS); this is well past both. */
const STALLED_AFTER_MS = 3 * MONGO_CLIENT_OPTIONS.connectTimeoutMS;
const CHECK_EVERY_MS = 1_000;

export type GuardedMongoClient = {
  client: MongoClient;
  /** How many times the guard replaced a stalled topology (for tests and metrics). */
  readonly recoveries: number;
  close(): Promise<void>;
};

/**
 * A MongoClient with the product's options whose stalled monitor is noticed and replaced.
 * `name` says which client in the log ("the store", "tenant data").
 */
export function guardedMongoClient(uri: string, opts: { name: string; log: Log; stalledAfterMs?: number }): GuardedMongoClient {
  const client = new MongoClient(uri, MONGO_CLIENT_OPTIONS);
  const watch = new MonitorWatch(client, { name: opts.name, log: opts.log, stalledAfterMs: opts.stalledAfterMs ?? STALLED_AFTER_MS });
  return {
    client,
    get recoveries() {
      return watch.recoveries;
    },
    async close() {
      watch.stop();
      await client.close();
    },
  };
}

/** Follows each server's heartbeats; one unanswered for `stalledAfterMs` means the monitor is stuck. */
class MonitorWatch {
  recoveries = 0;
  private readonly client: MongoClient;
  private readonly opts: { name: string; log: Log; stalledAfterMs: number };
  /** When each server's current heartbeat started (none while it is between heartbeats). */
  private readonly started = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private replacing: Promise<void> | undefined;
  /** The topology was closed and a new one could not connect yet: try again on the next check. */
  private disconnected = false;

  constructor(client: MongoClient, opts: { name: string; log: Log; stalledAfterMs: number }) {
    this.client = client;
    this.opts = opts;
    client.on('serverHeartbeatStarted', (e: ServerHeartbeatStartedEvent) => this.started.set(e.connectionId, Date.now()));
    const settled = (e: ServerHeartbeatSucceededEvent | ServerHeartbeatFailedEvent) => this.started.delete(e.connectionId);
    client.on('serverHeartbeatSucceeded', settled);
    client.on('serverHeartbeatFailed', settled);
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    if (this.replacing) return;
    const now = Date.now();
    const stalled = [...this.started].find(([, since]) => now - since > this.opts.stalledAfterMs);
    if (!stalled && !this.disconnected) return;
    if (stalled) {
      this.opts.log.warn(
        { server: stalled[0], waitedMs: now - stalled[1] },
        `the ${this.opts.name} client's heartbeat to ${stalled[0]} never settled (the driver's monitor is stuck); connecting afresh`,
      );
    }
    this.replacing = this.replace().finally(() => {
      this.replacing = undefined;
    });
  }

  private async replace(): Promise<void> {
    this.started.clear();
    try {
      if (!this.disconnected) await this.client.close();
      this.disconnected = true;
      await this.client.connect();
      this.disconnected = false;
      this.recoveries += 1;
      this.opts.log.info({}, `the ${this.opts.name} client is connected again`);
    } catch (err) {
      // The server may still be down: the next check tries again, and calls fail as unavailable meanwhile.
      this.opts.log.warn({ err }, `the ${this.opts.name} client could not connect yet; trying again`);
    }
  }
}

/** Server answers that mean "I am going away or stepping down", not "I refuse this" (MongoDB's error codes). */
const GOING_AWAY_CODES: ReadonlySet<number> = new Set([91, 189, 10107, 11600, 11602, 13435, 13436]);
/** FerretDB's answer to a request its shutdown cut short. */
const FERRETDB_CUT_SHORT = /context canceled/;

/** A driver error that means "the server could not be reached" or is going away, not "the server refused this". */
export function isUnreachable(err: unknown): boolean {
  // insertMany and bulkWrite wrap a dropped connection in a bulk write error that carries it as its response.
  if (err instanceof MongoBulkWriteError && isUnreachable(err.errorResponse)) return true;
  if (err instanceof MongoServerError)
    return (typeof err.code === 'number' && GOING_AWAY_CODES.has(err.code)) || FERRETDB_CUT_SHORT.test(err.message);
  return (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError
  );
}

/**
 * The same object, each of whose calls that return a promise ends within `deadlineMs`: an unreachable
 * store or a call past the deadline rejects with StoreUnavailableError (retryable) naming the call.
 * Calls between the target's own methods are not bounded twice.
 */
export function boundedCalls<T extends object>(target: T, opts: { name: string; deadlineMs?: number }): T {
  const deadlineMs = opts.deadlineMs ?? STORE_CALL_DEADLINE_MS;
  return new Proxy(target, {
    get(object, key, receiver) {
      const value: unknown = Reflect.get(object, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = Reflect.apply(value, object, args);
        return result instanceof Promise ? withinDeadline(result, `${opts.name}.${String(key)}`, deadlineMs) : result;
      };
    },
  });
}

async function withinDeadline<T>(call: Promise<T>, what: string, deadlineMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(`${what} got no answer from the store within ${deadlineMs / 1000} s`)), deadlineMs);
  });
  try {
    return await Promise.race([call, late]);
  } catch (err) {
    if (isUnreachable(err)) throw new StoreUnavailableError(`${what} could not reach the store: ${errorText(err)}`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
