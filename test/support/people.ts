/**
 * The people tests act as, on the CLI door: a CLI operator is whoever the
 * configuration names, so tests name theirs. Admins pass every policy check
 * but the four-eyes rule, which the policy's own table test covers.
 */
import type { Identity, Role } from '../../src/domain/policy.ts';

export function person(name: string, ...roles: Role[]): Identity {
  return { door: 'cli', id: name, name, roles: new Set(roles.length > 0 ? roles : ['admin']) };
}

/** The AE who asks for tenants in most stories (dealFor's requestedBy). */
export const REQUESTER: Identity = person('jane.ae', 'requester');
