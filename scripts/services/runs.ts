// Bookkeeping of one "run" (one ensureServices() call): its folder under
// .local/services, the servers it started and their `pids` file. The pids file
// lets a later run reap servers orphaned by a run that crashed or was killed
// before it could stop them; stopRun() stops what a run started.

import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, stateDir } from './common.ts';
import { isAlive, signalGroup, terminate } from './process.ts';

export interface Started {
  name: string;
  impl: string;
  pid: number;
  child: ChildProcess;
  /** Data directories removed by stop(). */
  dataDirs: string[];
}

/** One ensureServices() call: `cli` (persistent, outlives the process) or `run-<pid>-<hex>`. */
export interface Run {
  dir: string;
  persistent: boolean;
  started: Started[];
}

/** Folder prefix of non-persistent runs; reapStaleRuns() reads the owner pid after it. */
export const RUN_PREFIX = 'run-';

function pidsFile(run: Run): string {
  return join(run.dir, 'pids');
}

/** `<pid> <impl>` lines, so a later run can reap servers orphaned by a crashed run. */
export function recordPids(run: Run): void {
  writeFileSync(pidsFile(run), run.started.map((s) => `${s.pid} ${s.impl}\n`).join(''));
}

function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/**
 * Removes run folders whose owner process is gone, killing any server they
 * left behind (only if /proc confirms the pid still runs that program).
 */
export function reapStaleRuns(): void {
  let entries: string[];
  try {
    entries = readdirSync(stateDir);
  } catch {
    return;
  }
  for (const name of entries) {
    const m = /^run-(\d+)-/.exec(name);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner === process.pid || isAlive(owner)) continue;
    const dir = join(stateDir, name);
    let lines: string[] = [];
    try {
      lines = readFileSync(join(dir, 'pids'), 'utf8').split('\n');
    } catch {
      // no servers recorded
    }
    for (const line of lines) {
      const [pidText, impl] = line.trim().split(' ');
      const pid = Number(pidText);
      if (!pid || !impl || !isAlive(pid)) continue;
      const cmdline = cmdlineOf(pid);
      const prog = impl === 'moto_server' ? 'moto' : impl;
      if (cmdline?.includes(prog)) {
        log(`killing ${impl} (pid ${pid}) left behind by an earlier run that did not stop cleanly`);
        signalGroup(pid, 'SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How to stop a server at once but cleanly: PostgreSQL's SIGTERM waits for its clients to leave, SIGINT does not. */
export function stopSignal(impl: string): NodeJS.Signals {
  return impl === 'postgres' ? 'SIGINT' : 'SIGTERM';
}

/** Stops what the run started (newest first) and removes their data; the logs stay unless `removeDir`. */
export async function stopRun(run: Run, removeDir: boolean): Promise<void> {
  const procs = run.started.splice(0).reverse();
  await Promise.all(procs.map((p) => terminate(p.pid, p.child, undefined, stopSignal(p.impl))));
  for (const p of procs) for (const d of p.dataDirs) rmSync(d, { recursive: true, force: true });
  if (removeDir) rmSync(run.dir, { recursive: true, force: true });
  else rmSync(pidsFile(run), { force: true });
}
