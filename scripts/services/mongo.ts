// A MongoDB-wire server for the job store: reuse MONGODB_URI when set (after
// a real driver ping), else start mongod when it is on PATH, else FerretDB
// built with Go from tools/ferretdb. The built binary is cached under the
// user's cache folder, keyed by a hash of the wrapper's sources, so only the
// first run (or a change to tools/ferretdb) pays the ~2 min build.
//
// FerretDB stores its data in a private PostgreSQL cluster (postgres.ts): its
// PostgreSQL handler pushes filters down to SQL, while on SQLite every query
// reads every document (see the README's figures). FERRETDB_HANDLER=sqlite
// chooses SQLite files; so does a machine where PostgreSQL cannot be had.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, errorMessage, log, repoRoot, stateDir } from './common.ts';
import { mongoPing, redactUrl, tcpConnect } from './probes.ts';
import { findOnPath, isExecutable, runLogged, tail } from './process.ts';
import { startPostgres } from './postgres.ts';
import type { Run } from './runs.ts';
import { spawnAndWait, withPortRetry } from './spawn.ts';
import type { ServiceInfo } from './types.ts';

const ferretSrcDir = join(repoRoot, 'tools', 'ferretdb');

/** sha256 (first 16 hex) of the FerretDB wrapper sources: the binary's cache key. */
export function ferretHash(): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) {
    h.update(`${f}\0`);
    try {
      h.update(readFileSync(join(ferretSrcDir, f)));
    } catch {
      // go.sum may be absent before the first tidy; the hash still identifies the sources
    }
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Path of the cached FerretDB binary, building it first if needed. */
export async function ensureFerretBinary(): Promise<string> {
  const dir = cacheDir();
  const bin = join(dir, `ferretdb-${ferretHash()}`);
  if (isExecutable(bin)) return bin;
  const go = findOnPath('go');
  if (!go) {
    throw new Error(
      'No MONGODB_URI, no mongod on PATH, and no Go toolchain to build FerretDB from tools/ferretdb. ' +
        'Install Go >= 1.21 (https://go.dev/dl/; it fetches the 1.26 toolchain from the Go module proxy), ' +
        'install MongoDB, or set MONGODB_URI to a running server.',
    );
  }
  mkdirSync(dir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(stateDir, 'ferretdb-build.log');
  writeFileSync(logFile, '');
  const tmp = `${bin}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  log('building FerretDB (first run only, ~2 min)…');
  const t0 = Date.now();
  // -buildvcs=false: the module lives inside this git checkout; VCS stamping is useless
  // here and fails on "dubious ownership" checkouts. CGO off: pure-Go SQLite, no C compiler needed.
  const code = await runLogged(go, ['build', '-buildvcs=false', '-o', tmp, '.'], logFile, {
    cwd: ferretSrcDir,
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  if (code !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    throw new Error(
      `go build of tools/ferretdb failed (exit ${code}). Set MONGODB_URI to use an existing server instead.\n  log (${logFile}):\n${tail(logFile)}`,
    );
  }
  renameSync(tmp, bin); // atomic: a concurrent run sees either no binary or a whole one
  log(`built FerretDB in ${((Date.now() - t0) / 1000).toFixed(0)} s -> ${bin}`);
  return bin;
}

export async function ensureMongo(run: Run): Promise<ServiceInfo> {
  const existing = process.env.MONGODB_URI;
  if (existing) {
    try {
      await mongoPing(existing, 10_000);
    } catch (err) {
      throw new Error(
        `MONGODB_URI is set (${redactUrl(existing)}) but that server does not answer ping: ${errorMessage(err)}. Start it, or unset MONGODB_URI to let this script start a local one.`,
      );
    }
    return { name: 'mongodb', impl: 'external', envVar: 'MONGODB_URI', url: existing, source: 'reused' };
  }

  const mongod = findOnPath('mongod');
  if (mongod) return startMongod(run, mongod);
  const bin = await ensureFerretBinary();
  const storage = await ferretStorage(run);
  return withPortRetry(async (port) => {
    const url = `mongodb://127.0.0.1:${port}/`;
    const sqliteDir = join(run.dir, `ferretdb-${port}`);
    const args = [
      '-listen',
      `127.0.0.1:${port}`,
      ...(storage.postgresUrl ? ['-handler', 'postgresql', '-postgresql-url', storage.postgresUrl] : ['-handler', 'sqlite', '-dir', sqliteDir]),
    ];
    if (!storage.postgresUrl) mkdirSync(sqliteDir, { recursive: true });
    await spawnAndWait(run, {
      name: 'mongodb',
      impl: 'ferretdb',
      cmd: bin,
      args,
      logFile: join(run.dir, 'ferretdb.log'),
      dataDirs: storage.postgresUrl ? [] : [sqliteDir],
      timeoutMs: 30_000,
      ready: () => wireReady(port, url),
    });
    return { name: 'mongodb', impl: storage.postgresUrl ? 'ferretdb+postgresql' : 'ferretdb+sqlite', envVar: 'MONGODB_URI', url, source: 'started' };
  });
}

/** PostgreSQL unless FERRETDB_HANDLER=sqlite asks for SQLite files, or PostgreSQL cannot be started here (said why). */
async function ferretStorage(run: Run): Promise<{ postgresUrl?: string }> {
  const handler = process.env.FERRETDB_HANDLER ?? 'postgresql';
  if (handler === 'sqlite') return {};
  if (handler !== 'postgresql') throw new Error(`FERRETDB_HANDLER is "${handler}"; it must be postgresql or sqlite`);
  try {
    return { postgresUrl: await startPostgres(run) };
  } catch (err) {
    log(`FerretDB falls back to SQLite, which reads every document on every query (slower as history grows): ${errorMessage(err)}`);
    return {};
  }
}

async function startMongod(run: Run, mongod: string): Promise<ServiceInfo> {
  return withPortRetry(async (port) => {
    const dir = join(run.dir, `mongod-${port}`);
    mkdirSync(dir, { recursive: true });
    const url = `mongodb://127.0.0.1:${port}/`;
    await spawnAndWait(run, {
      name: 'mongodb',
      impl: 'mongod',
      cmd: mongod,
      args: ['--dbpath', dir, '--bind_ip', '127.0.0.1', '--port', String(port)],
      logFile: join(run.dir, 'mongod.log'),
      dataDirs: [dir],
      timeoutMs: 30_000,
      ready: () => wireReady(port, url),
    });
    return { name: 'mongodb', impl: 'mongod', envVar: 'MONGODB_URI', url, source: 'started' };
  });
}

/** Cheap TCP probe first; the driver ping (hello + ping) only once the port accepts. */
async function wireReady(port: number, url: string): Promise<boolean> {
  return (await tcpConnect('127.0.0.1', port)) && mongoPing(url, 2000).then(() => true);
}
