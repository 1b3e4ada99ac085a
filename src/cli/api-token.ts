/**
 * `provisioner api-token create <caller>`: a new random token for a program
 * that calls the API, and the API_CALLERS value to deploy. Only the token's
 * hash goes into configuration; the caller's current token stays valid beside
 * it until the next rotation, so the caller can switch without downtime.
 */
import { callersWithNewToken, isCallerName, newApiToken, tokenHash, type ApiCallers } from '../domain/api-callers.ts';
import { InvalidInputError } from '../domain/errors.ts';

export function apiTokenText(callers: ApiCallers, caller: string): string[] {
  if (!isCallerName(caller)) {
    throw new InvalidInputError([
      { field: 'caller', message: 'a caller name is lowercase letters, digits, - and _, starting with a letter (e.g. product, salesforce)' },
    ]);
  }
  const token = newApiToken();
  const replacing = callers.get(caller)?.[0];
  return [
    `New API token for ${caller}. It is shown only now: the provisioner keeps only its SHA-256 hash.`,
    '',
    `  ${token}`,
    '',
    replacing === undefined
      ? `Set this in the provisioner's configuration, restart it, and give ${caller} the token:`
      : `Set this in the provisioner's configuration and restart it; ${caller}'s current token stays valid beside the new one until the next rotation:`,
    '',
    `  API_CALLERS='${callersWithNewToken(callers, caller, tokenHash(token))}'`,
  ];
}
