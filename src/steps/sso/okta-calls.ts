/**
 * Calling Okta through its SDK: what its failures mean for the engine, and
 * walking its paged collections. A 429, a 5xx or a dropped connection is
 * worth retrying; a 4xx says the request or the bot's token is wrong.
 *
 * This step looks things up only through lists, searches and logins, never
 * by a GET of an id: the SDK's default cache middleware answers a repeated
 * GET by id from memory, so a resource deleted in the Okta console would
 * still look present. Collections are never cached.
 */
import type { Collection, OktaApiError } from '@okta/okta-sdk-nodejs';
import { PermanentError, TransientError, errorMessage } from '../../domain/errors.ts';

/**
 * The SDK's error, recognised by the name it gives itself: importing the SDK's class to test
 * `instanceof` would load the whole SDK (~65 MB) in every process, SSO or not.
 */
function isOktaApiError(err: unknown): err is OktaApiError {
  return err instanceof Error && err.name === 'OktaApiError' && 'status' in err && typeof err.status === 'number';
}

function statusOf(err: unknown): number | undefined {
  if (isOktaApiError(err)) return err.status;
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number') return err.status;
  return undefined;
}

/** "Api validation failed: login. login: An object with this field already exists…" */
function oktaDetail(err: OktaApiError): string {
  const causes = (err.errorCauses ?? []).map((cause) => cause.errorSummary).filter((summary) => summary !== undefined);
  return [`${err.errorCode} ${err.errorSummary}`.trim(), ...causes].join('; ');
}

function networkCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  if ('code' in err && typeof err.code === 'string') return err.code;
  if ('type' in err && err.type === 'system') return 'network error';
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/** True when Okta refused because the value is taken (a concurrent or earlier create won). */
export function isAlreadyExists(err: unknown): boolean {
  if (!isOktaApiError(err) || err.status !== 400) return false;
  return (err.errorCauses ?? []).some((cause) => /already exists/i.test(cause.errorSummary ?? ''));
}

/** Maps any failure of an Okta call to the engine's error kinds; `action` reads "creating the admin group". */
export function oktaFailure(action: string, err: unknown): Error {
  const status = statusOf(err);
  const detail = isOktaApiError(err) ? oktaDetail(err) : errorMessage(err);
  if (status === undefined) {
    const code = networkCode(err);
    return new TransientError(code ? `Okta unreachable while ${action} (${code})` : `Okta call failed while ${action}: ${detail}`);
  }
  if (status === 429) return new TransientError(`Okta rate limit reached while ${action}; will retry`);
  if (status >= 500) return new TransientError(`Okta answered HTTP ${status} while ${action} (${detail})`);
  if (status === 401) {
    return new PermanentError(`Okta rejected the bot's API token while ${action} (${detail}): check the Okta API token in the bot's configuration`);
  }
  if (status === 403) {
    return new PermanentError(
      `Okta refused ${action} (${detail}): the bot's API token needs an admin role that manages users, groups, apps and identity providers`,
    );
  }
  // Something this step had just found went away under it: a new attempt finds or recreates it.
  if (status === 404) return new TransientError(`Okta no longer has a resource needed while ${action} (${detail})`);
  return new PermanentError(`Okta rejected ${action}: ${detail}`);
}

export async function call<T>(action: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    throw oktaFailure(action, err);
  }
}

/** Runs a removal; a resource already gone counts as removed. */
export async function removeIfPresent(action: string, request: () => Promise<unknown>): Promise<void> {
  try {
    await request();
  } catch (err) {
    if (!isNotFound(err)) throw oktaFailure(action, err);
  }
}

/** Every item of a paged collection that satisfies `wanted`, following Okta's Link headers. */
export async function collect<T>(action: string, list: () => Promise<Collection<T>>, wanted: (item: T) => boolean = () => true): Promise<T[]> {
  return call(action, async () => {
    const collection = await list();
    const found: T[] = [];
    for (;;) {
      const { value } = await collection.next();
      if (value === null) return found;
      if (wanted(value)) found.push(value);
    }
  });
}

/** The first matching item, stopping as soon as it is seen. */
export async function findFirst<T>(action: string, list: () => Promise<Collection<T>>, wanted: (item: T) => boolean): Promise<T | undefined> {
  return call(action, async () => {
    const collection = await list();
    for (;;) {
      const { value } = await collection.next();
      if (value === null || wanted(value)) return value ?? undefined;
    }
  });
}
