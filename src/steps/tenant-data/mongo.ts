/**
 * What the tenant-data steps need from the MongoDB driver beyond plain
 * calls: telling passing failures from lasting ones, and the few server
 * answers that mean "already done".
 */
import { MongoBulkWriteError, MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError, type Db, type MongoClient } from 'mongodb';
import { PermanentError, TransientError } from '../../domain/errors.ts';

export const DUPLICATE_KEY = 11000;
export const NAMESPACE_EXISTS = 48;
export const NAMESPACE_NOT_FOUND = 26;
export const NOT_IMPLEMENTED = 238;

// Server codes that mean "try again later": elections, shutdowns, timeouts, lost hosts.
const PASSING_CODES: ReadonlySet<number> = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
const AUTH_CODES: ReadonlySet<number> = new Set([13, 18]);

export function serverCode(err: unknown): number | undefined {
  return err instanceof MongoServerError && typeof err.code === 'number' ? err.code : undefined;
}

/**
 * Runs one database call for a step and names what went wrong in words the
 * audit trail can show; never includes the connection string.
 *
 * Pass the client to connect first: after a failed automatic connect the
 * driver (7.x) keeps answering "Topology is closed" until someone calls
 * connect() again, so a brief outage would otherwise fail every retry until
 * a restart. connect() on a connected client returns at once.
 */
export async function tenantDb<T>(doing: string, call: () => Promise<T>, client: MongoClient): Promise<T> {
  try {
    await client.connect();
    return await call();
  } catch (err) {
    throw classifyMongoError(doing, err);
  }
}

export function classifyMongoError(doing: string, err: unknown): unknown {
  if (err instanceof PermanentError || err instanceof TransientError) return err;
  // insertMany wraps a dropped connection in a bulk write error (a server error by class) that carries it.
  const unreachable = (e: unknown) => e instanceof MongoServerSelectionError || e instanceof MongoNetworkError;
  if (unreachable(err) || (err instanceof MongoBulkWriteError && unreachable(err.errorResponse))) {
    return new TransientError(`tenant database server unreachable while ${doing}; will retry`);
  }
  if (!(err instanceof MongoError)) return err;
  const code = serverCode(err);
  // FerretDB answers "context canceled" to a request its shutdown cut short.
  if (err.hasErrorLabel('RetryableWriteError') || (code !== undefined && PASSING_CODES.has(code)) || /context canceled/.test(err.message)) {
    return new TransientError(`tenant database busy while ${doing} (${describeCode(err)}); will retry`);
  }
  if (code !== undefined && AUTH_CODES.has(code)) {
    return new PermanentError(
      `tenant database refused the provisioner's credentials while ${doing} (${describeCode(err)}); check the tenant data connection settings`,
    );
  }
  if (err instanceof MongoServerError) {
    return new PermanentError(`tenant database rejected ${doing}: ${err.message} (${describeCode(err)})`);
  }
  return new TransientError(`tenant database call failed while ${doing}: ${err.message}`);
}

function describeCode(err: MongoError): string {
  const codeName = err instanceof MongoServerError ? err.codeName : undefined;
  return codeName === undefined ? `code ${String(err.code)}` : `${codeName}, code ${String(err.code)}`;
}

/** True when an unordered insert failed only because some documents were already there. */
export function onlyDuplicates(err: unknown): err is MongoBulkWriteError {
  if (!(err instanceof MongoBulkWriteError)) return false;
  const writeErrors = [err.writeErrors].flat();
  return writeErrors.length > 0 && writeErrors.every((writeError) => writeError.code === DUPLICATE_KEY);
}

/**
 * The collections that exist in a database, each with whether the server
 * validates it; an absent database has none (listing does not create it).
 */
export async function existingCollections(db: Db): Promise<Map<string, boolean>> {
  const found = await db.listCollections({}, { nameOnly: false }).toArray();
  return new Map(found.map((collection) => [collection.name, collection.options?.['validator'] !== undefined]));
}
