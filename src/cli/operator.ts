/**
 * The CLI's trust model: whoever can run it on this machine (with its
 * configuration) acts as one of the operators named in PROVISIONER_OPERATORS,
 * by default the machine's user as admin. `--as` picks another configured
 * operator, never an arbitrary name, so the audit trail names someone real.
 */
import type { Config } from '../config.ts';
import { NotAllowedError } from '../domain/errors.ts';
import type { Identity } from '../domain/policy.ts';

export function operatorIdentity(config: Pick<Config, 'operator' | 'operators'>, as: string | undefined): Identity {
  const name = as ?? config.operator;
  const roles = config.operators.get(name);
  if (!roles) {
    const known = [...config.operators.keys()].join(', ');
    throw new NotAllowedError(
      `"${name}" is not a configured operator; the CLI acts only as one of: ${known} (set PROVISIONER_OPERATORS to add people)`,
    );
  }
  return { door: 'cli', id: name, name, roles };
}
