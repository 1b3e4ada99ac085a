/**
 * The CLI: its commander program in-process (main.ts exports buildProgram),
 * stopped just before any action runs, on arbitrary argument lists; and a
 * smaller sample of real `provisioner` processes against the real servers,
 * where the whole path runs: parsing, the intake, the exit code.
 * Properties: parsing throws nothing but commander's own usage errors, which
 * name the option, argument or command at fault; a real run prints no stack
 * trace, exits with a documented code (0 done, 2 invalid input, 3 refused:
 * 1, "did not go live", cannot happen here since nothing is followed) and,
 * when it refuses input, names the field or option.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { CommanderError, type Command } from 'commander';
import fc from 'fast-check';
import { buildProgram } from '../../src/cli/main.ts';
import type { Config } from '../../src/config.ts';
import { nastyString } from './arbitraries.ts';
import { errorText, type Findings, hasStackTrace } from './findings.ts';
import { INTAKE_FIELDS } from './intake.ts';

const ROOT = resolve(import.meta.dirname, '../..');

const COMMANDS = ['provision', 'status', 'audit', 'list', 'approve', 'reject', 'retry', 'override', 'rollback', 'cancel', 'input', 'seed-plan'];
const LONG_RUNNING = ['worker', 'serve', 'demo'];
const FLAGS = [
  '--company',
  '--slug',
  '--admin-email',
  '--plan',
  '--start-date',
  '--value',
  '--residency',
  '--feature',
  '--opportunity',
  '--step',
  '--reason',
  '--json',
  '--as',
  '--verbose',
  '--no-follow',
  '--no-worker',
];

/** One flag with or without a value, as `--flag value` or `--flag=value`. */
const option = fc
  .tuple(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...FLAGS) }, { weight: 1, arbitrary: nastyString }), fc.option(nastyString), fc.boolean())
  .map(([flag, value, joined]) => (value === null ? [flag] : joined ? [`${flag}=${value}`] : [flag, value]));

/** A provision command that is nearly right: every required option, some values bad, some options repeated or unknown. */
const provision = fc
  .record({
    company: fc.oneof(fc.constantFrom('Acme Corp', 'Globex, Inc.'), nastyString),
    email: fc.oneof(fc.emailAddress(), nastyString),
    plan: fc.oneof(fc.constantFrom('starter', 'growth', 'enterprise'), nastyString),
    value: fc.oneof(fc.nat({ max: 500_000 }).map(String), nastyString),
    opportunity: fc.oneof(fc.stringMatching(/^006[A-Z0-9]{8}$/), nastyString),
    extra: fc.array(option, { maxLength: 3 }),
    drop: fc.nat({ max: 6 }),
  })
  .map(({ company, email, plan, value, opportunity, extra, drop }) => {
    const pairs = [
      ['--company', company],
      ['--admin-email', email],
      ['--plan', plan],
      ['--value', value],
      ['--opportunity', opportunity],
    ].filter((_, i) => i !== drop);
    return ['provision', ...pairs.flat(), ...extra.flat()];
  });

const anyCommand = fc
  .tuple(
    fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 1, arbitrary: nastyString }),
    fc.array(nastyString, { maxLength: 2 }),
    fc.array(option, { maxLength: 5 }),
  )
  .map(([command, positional, options]) => [command, ...positional, ...options.flat()]);

const argv = fc.oneof(
  { weight: 3, arbitrary: provision },
  { weight: 3, arbitrary: anyCommand },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 4 }) },
);

class ReachedAction extends Error {}

/** Sends every command's output to `sink` and makes usage errors throw instead of exiting. */
function captured(command: Command, sink: (text: string) => void): void {
  command.exitOverride();
  command.configureOutput({ writeOut: sink, writeErr: sink });
  for (const sub of command.commands) captured(sub, sink);
}

const NAMING_CODES = new Set([
  'commander.unknownOption',
  'commander.missingMandatoryOptionValue',
  'commander.optionMissingArgument',
  'commander.missingArgument',
  'commander.unknownCommand',
  'commander.excessArguments',
  'commander.invalidArgument',
]);

export async function fuzzCliParsing(findings: Findings, config: Config, cases: number, seed: number): Promise<void> {
  const inputs = fc.sample(fc.oneof({ weight: 9, arbitrary: argv }, { weight: 1, arbitrary: fc.constantFrom(...LONG_RUNNING).map((c) => [c]) }), {
    numRuns: cases,
    seed,
  });
  for (const args of inputs) {
    const index = findings.tried('cli parsing');
    let output = '';
    const program = buildProgram(config);
    captured(program, (text) => {
      output += text;
    });
    program.hook('preAction', () => {
      throw new ReachedAction();
    });
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch (err) {
      if (err instanceof CommanderError) {
        if (NAMING_CODES.has(err.code) && !/'[^']*'/.test(err.message))
          findings.unnamed('cli parsing', index, `usage error names nothing: ${err.message}`, args);
      } else if (!(err instanceof ReachedAction)) {
        findings.crash('cli parsing', index, `parsing threw ${errorText(err)}`, args);
      }
    }
    if (hasStackTrace(output)) findings.crash('cli parsing', index, `stack trace in the output: ${output.slice(0, 300)}`, args);
  }
}

/** Real processes: provision never follows or runs steps here, and no command that runs until stopped. */
const realArgv = fc.oneof(
  { weight: 3, arbitrary: provision.map((args) => [...args, '--no-worker', '--no-follow']) },
  { weight: 2, arbitrary: anyCommand.filter((args) => args[0] !== 'provision' && !args.some((a) => a.startsWith('--follow'))) },
);

const NAMED = new RegExp(`\\b(${[...INTAKE_FIELDS, 'reason', 'step', 'json', 'plan'].join('|')})\\b|--[a-z]|'[^']+'|\\.yaml`);

export async function fuzzCliProcesses(findings: Findings, env: Record<string, string>, cases: number, seed: number): Promise<void> {
  for (const generated of fc.sample(realArgv, { numRuns: cases, seed })) {
    const index = findings.tried('cli processes');
    // No shell or OS passes a NUL inside an argument.
    const args = generated.map((a) => a.replaceAll('\u0000', ''));
    const run = await runCli(args, env);
    const output = `${run.stdout}\n${run.stderr}`;
    if (run.code === null) {
      findings.crash('cli processes', index, `did not finish within ${CLI_TIMEOUT_MS / 1000} s (${run.signal})`, args);
      continue;
    }
    if (hasStackTrace(output))
      findings.crash('cli processes', index, `stack trace in the output (exit ${run.code}): ${output.trim().slice(0, 300)}`, args);
    if (![0, 2, 3].includes(run.code)) findings.crash('cli processes', index, `exit code ${run.code}: ${output.trim().slice(0, 200)}`, args);
    if (run.code === 2 && !NAMED.test(output))
      findings.unnamed('cli processes', index, `refused without naming a field: ${output.trim().slice(0, 200)}`, args);
  }
}

const CLI_TIMEOUT_MS = 60_000;

type CliRun = { code: number | null; signal: string | null; stdout: string; stderr: string };

function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    // 'close', not 'exit': only then has all the output been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}
