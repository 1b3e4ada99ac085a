/**
 * `provisioner api-token create|rotate|revoke <caller>`: tokens of programs
 * that call the API. Configuration is the environment, so these change
 * nothing themselves: each prints the API_CALLERS value to deploy (and, when
 * it made one, the new token, shown once; only its hash is configured).
 * A rotation keeps the caller's current token valid beside the new one until
 * the old one is revoked, so the caller can switch without downtime.
 */
import { callersWithNewToken, callersWithoutToken, isCallerName, newApiToken, tokenHash, type ApiCallers } from '../domain/api-callers.ts';
import { InvalidInputError } from '../domain/errors.ts';

const DEPLOY = "Nothing is changed here (configuration is the environment): set this in the provisioner's configuration and restart it";

/** A new token for a caller, new or not (for one already configured this is a rotation). */
export function apiTokenText(callers: ApiCallers, caller: string): string[] {
  checkName(caller);
  const token = newApiToken();
  const replacing = callers.get(caller)?.hashes[0];
  return [
    `New API token for ${caller}. It is shown only now: the provisioner keeps only its SHA-256 hash.`,
    '',
    `  ${token}`,
    '',
    replacing === undefined
      ? `${DEPLOY}, then give ${caller} the token:`
      : `${DEPLOY}; ${caller}'s current token stays valid beside the new one until you revoke it (api-token revoke ${caller}):`,
    '',
    `  API_CALLERS='${callersWithNewToken(callers, caller, tokenHash(token))}'`,
  ];
}

/** A new token for a caller already configured, its current token kept beside it. */
export function rotateTokenText(callers: ApiCallers, caller: string): string[] {
  known(callers, caller);
  return apiTokenText(callers, caller);
}

/** The API_CALLERS value without one of the caller's tokens: by default the one being replaced, or the one named by its hash. */
export function revokeTokenText(callers: ApiCallers, caller: string, hash: string | undefined): string[] {
  const { hashes } = known(callers, caller);
  const named = hash?.replace(/^sha256:/, '');
  if (named !== undefined && !hashes.includes(named)) {
    throw new InvalidInputError([
      { field: 'hash', message: `${caller} has no token with that hash; its hashes: ${hashes.map((h) => `sha256:${h}`).join(', ')}` },
    ]);
  }
  const revoked = named ?? hashes.at(-1) ?? '';
  const [kept] = hashes.filter((h) => h !== revoked);
  return [
    kept !== undefined
      ? `Revoking ${caller}'s token sha256:${revoked.slice(0, 12)}…; its token sha256:${kept.slice(0, 12)}… stays valid.`
      : `Revoking ${caller}'s only token: ${caller} can no longer call the API.`,
    '',
    `${DEPLOY}:`,
    '',
    `  API_CALLERS='${callersWithoutToken(callers, caller, revoked)}'`,
  ];
}

function checkName(caller: string): void {
  if (!isCallerName(caller)) {
    throw new InvalidInputError([
      { field: 'caller', message: 'a caller name is lowercase letters, digits, - and _, starting with a letter (e.g. product, salesforce)' },
    ]);
  }
}

function known(callers: ApiCallers, caller: string) {
  checkName(caller);
  const found = callers.get(caller);
  if (found) return found;
  const names = [...callers.keys()];
  throw new InvalidInputError([
    {
      field: 'caller',
      message: `${caller} is not in API_CALLERS (${names.length > 0 ? `callers: ${names.join(', ')}` : 'no callers are configured'}); make its first token with api-token create ${caller}`,
    },
  ]);
}
