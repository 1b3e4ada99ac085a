// Shared basics of the local services: where the repo, the run state and the
// build cache live, and the `[services]` log line every part writes to stderr
// (stdout is reserved for the CLI's `export` lines).

import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Two levels up: this file lives in scripts/services/. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const stateDir = join(repoRoot, '.local', 'services');

export function log(msg: string): void {
  process.stderr.write(`[services] ${msg}\n`);
}

export function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\.+$/, '');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Downloads and builds kept across runs (the FerretDB binary, the moto venv), outside the repo. */
export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tenant-provisioner');
}
