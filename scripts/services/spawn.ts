// Starting one server: spawn it detached with its output in a log file, track
// it in the run from the first moment (so an interrupted start is cleaned up),
// and poll a readiness check. A server that dies before it is ready is retried
// on a fresh free port, since the likely cause is the port being taken between
// picking it and binding it.

import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { sleep } from './common.ts';
import { hasExited, tail, terminate } from './process.ts';
import { recordPids, type Run, type Started } from './runs.ts';

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? res(port) : rej(new Error('could not pick a free port'))));
    });
  });
}

class StartFailure extends Error {
  /** True when the process exited before becoming ready (worth retrying on another port). */
  readonly exitedEarly: boolean;
  constructor(message: string, exitedEarly: boolean) {
    super(message);
    this.exitedEarly = exitedEarly;
  }
}

/**
 * Spawns `cmd` with output to `logFile`, in its own process group, then polls
 * `ready()` until it resolves true or `timeoutMs` passes.
 */
export async function spawnAndWait(
  run: Run,
  spec: {
    name: string;
    impl: string;
    cmd: string;
    args: string[];
    logFile: string;
    dataDirs: string[];
    timeoutMs: number;
    ready: () => Promise<boolean>;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
  },
): Promise<Started> {
  const fd = openSync(spec.logFile, 'w');
  const child = spawn(spec.cmd, spec.args, {
    cwd: spec.cwd ?? run.dir,
    stdio: ['ignore', fd, fd],
    detached: true, // own process group: a Ctrl-C meant for the test run must not kill the servers mid-test
    env: spec.env ?? process.env,
  });
  closeSync(fd);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  if (run.persistent) child.unref();

  const started: Started = { name: spec.name, impl: spec.impl, pid: child.pid ?? -1, child, dataDirs: spec.dataDirs };
  // Tracked from the moment it exists, so an interrupted start still gets cleaned up.
  if (started.pid > 0) {
    run.started.push(started);
    recordPids(run);
  }
  const fail = async (why: string, exitedEarly: boolean): Promise<never> => {
    if (started.pid > 0) await terminate(started.pid, child, 2000);
    const i = run.started.indexOf(started);
    if (i >= 0) run.started.splice(i, 1);
    recordPids(run);
    for (const d of spec.dataDirs) rmSync(d, { recursive: true, force: true });
    throw new StartFailure(
      `${spec.impl} ${why}\n  command: ${[spec.cmd, ...spec.args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ')}\n  log (${spec.logFile}):\n${tail(spec.logFile)}`,
      exitedEarly,
    );
  };

  const deadline = Date.now() + spec.timeoutMs;
  for (;;) {
    await sleep(spawnError || hasExited(child) ? 0 : 100);
    if (spawnError) return fail(`could not be started: ${spawnError.message}`, false);
    if (hasExited(child)) {
      return fail(`exited before it was ready (code ${child.exitCode ?? child.signalCode})`, true);
    }
    if (await spec.ready().catch(() => false)) break;
    if (Date.now() > deadline) return fail(`did not become ready within ${spec.timeoutMs / 1000} s`, false);
  }
  return started;
}

/** Retries a start on a fresh port when the process dies early (e.g. the port was taken meanwhile). */
export async function withPortRetry<T>(attempt: (port: number) => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    const port = await freePort();
    try {
      return await attempt(port);
    } catch (err) {
      if (!(err instanceof StartFailure) || !err.exitedEarly || i >= 3) throw err;
    }
  }
}
