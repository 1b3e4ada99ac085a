// Child-process plumbing for the local services: find a program on PATH, run
// an installer to completion into a log file, and stop a server for good
// (whole process group, SIGTERM then SIGKILL) whether or not this process
// started it. The servers run detached in their own process group, so every
// signal here goes to the group.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { sleep } from './common.ts';

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable on PATH (like `command -v`), or undefined. */
export function findOnPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** The last lines of a log, indented for an error message. */
export function tail(file: string, lines = 25): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    if (!text) return '  (log is empty)';
    return text
      .split('\n')
      .slice(-lines)
      .map((l) => `  | ${l}`)
      .join('\n');
  } catch {
    return `  (no log at ${file})`;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

/** Sends a signal to the process group (children are started detached, so pid == pgid). */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** `signal` (SIGTERM by default), then SIGKILL after `graceMs`. Works with or without a ChildProcess handle. */
export async function terminate(pid: number, child: ChildProcess | undefined, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const gone = (): boolean => (child ? hasExited(child) : !isAlive(pid));
  if (gone()) return;
  signalGroup(pid, signal);
  const deadline = Date.now() + graceMs;
  while (!gone() && Date.now() < deadline) await sleep(50);
  if (!gone()) {
    signalGroup(pid, 'SIGKILL');
    const hardDeadline = Date.now() + 2000;
    while (!gone() && Date.now() < hardDeadline) await sleep(50);
  }
}

/** Runs a command to completion with output appended to a log file. */
export function runLogged(cmd: string, args: string[], logFile: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  return new Promise((res) => {
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.once('error', (err) => {
      writeFileSync(logFile, `\n${cmd}: ${err.message}\n`, { flag: 'a' });
      res(127);
    });
    child.once('exit', (code, signal) => res(code ?? (signal ? 1 : 0)));
  });
}
