/**
 * Command-line usage rules on top of commander: a mistyped command line is
 * invalid input (exit 2, like any other), and every problem with it is named.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { parseWorkerRoles, type WorkerRole } from '../domain/worker-roles.ts';

/**
 * Commander stops at the first missing required option; someone fixing a command line
 * wants all of them at once. Options stay declared with `requiredOption()`; this checks
 * them together just before the action runs, with commander's own error code.
 */
export function nameAllMissingOptions(program: Command): void {
  for (const command of program.commands) {
    const required = command.options.filter((option) => option.mandatory);
    if (required.length === 0) continue;
    for (const option of required) {
      option.mandatory = false;
      option.description = `${option.description} (required)`;
    }
    command.hook('preAction', () => {
      const missing = required.filter((option) => command.getOptionValue(option.attributeName()) === undefined);
      if (missing.length === 0) return;
      const names = missing.map((option) => `'${option.flags}'`).join(', ');
      command.error(`error: required option${missing.length === 1 ? '' : 's'} ${names} not specified`, {
        code: 'commander.missingMandatoryOptionValue',
      });
    });
  }
}

/** An option holding JSON is parsed as the command line is read, so bad JSON is a usage error before anything starts. */
export function jsonOption(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `--roles steps,recorder`: an unknown or missing role is a usage error naming it, before anything starts. */
export function rolesOption(value: string): WorkerRole[] {
  const parsed = parseWorkerRoles(value);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.problem);
  return parsed.roles;
}

/** `serve --roles`: as `rolesOption`, or `none` for a process that only serves (worker processes elsewhere do the rest). */
export function serveRolesOption(value: string): WorkerRole[] {
  return value.trim() === 'none' ? [] : rolesOption(value);
}
