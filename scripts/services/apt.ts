// Installing a missing server with apt-get (Debian/Ubuntu, as root), one
// install at a time: Redis and PostgreSQL may both be missing on a fresh
// machine and are started concurrently, but dpkg takes one lock.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { log, stateDir } from './common.ts';
import { findOnPath, runLogged } from './process.ts';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Why apt-get cannot be used here, or undefined when it can. */
export function cannotApt(): string | undefined {
  if (!findOnPath('apt-get')) return 'apt-get is not available';
  if (!isRoot()) return 'installing it needs root (you are not root)';
  return undefined;
}

let queue: Promise<unknown> = Promise.resolve();

/** `apt-get update && apt-get install -y <pkg>`, output in .local/services/apt-get.log; the exit code, and the log file. */
export function aptInstall(pkg: string): Promise<{ code: number; logFile: string }> {
  const run = async () => {
    mkdirSync(stateDir, { recursive: true });
    const logFile = join(stateDir, 'apt-get.log');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    log(`${pkg} not found: running apt-get update && apt-get install -y ${pkg} (output in ${logFile})…`);
    const t0 = Date.now();
    let code = await runLogged('apt-get', ['update'], logFile, { env });
    if (code === 0) code = await runLogged('apt-get', ['install', '-y', '--no-install-recommends', pkg], logFile, { env });
    if (code === 0) log(`installed ${pkg} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { code, logFile };
  };
  const result = queue.then(run, run);
  queue = result;
  return result;
}
