// Local services for tests, the demo and the bench: Redis, a MongoDB-wire
// server and (optionally) an AWS emulator.
//
// For each service: reuse the one named by its env URL when set, otherwise
// start one on a free loopback port (installing / building what is missing).
//
//   Redis     REDIS_URL          else redis-server (apt-get install if missing)
//   MongoDB   MONGODB_URI        else mongod on PATH, else FerretDB built from tools/ferretdb
//   AWS       AWS_ENDPOINT_URL   else moto_server (pip install into a cached venv if missing)
//
// Library: `ensureServices({ wantAws })` -> { env, stop }.
// CLI:     node scripts/services.ts start [--aws] [--emulators] | stop | status
//
// Only Node built-ins here (plus the project's own `mongodb` driver, loaded
// lazily for the MongoDB readiness check).

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect as netConnect, createServer, isIP } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const stateDir = join(repoRoot, '.local', 'services');
const ferretSrcDir = join(repoRoot, 'tools', 'ferretdb');
const MOTO_SPEC = 'moto[server]==5.2.1';

export interface ServiceInfo {
  /** 'redis' | 'mongodb' | 'aws' */
  name: string;
  /** What actually runs it: redis-server, mongod, ferretdb, moto_server, or 'external'. */
  impl: string;
  envVar: string;
  url: string;
  source: 'started' | 'reused';
  /** More variables a service sets (the emulators point the bot at four endpoints). */
  extraEnv?: Record<string, string>;
}

export interface Services {
  env: Record<string, string>;
  stop: () => Promise<void>;
  services: ServiceInfo[];
}

export interface EnsureOptions {
  wantAws?: boolean;
  /** The Stripe/Okta/SMTP/webhook emulators of the local profile (src/local/serve.ts). */
  wantEmulators?: boolean;
  /** Internal (CLI `start`): detach the children so they outlive this process. */
  persistent?: boolean;
}

interface Started {
  name: string;
  impl: string;
  pid: number;
  child: ChildProcess;
  /** Data directories removed by stop(). */
  dataDirs: string[];
}

// ---------------------------------------------------------------- helpers

function log(msg: string): void {
  process.stderr.write(`[services] ${msg}\n`);
}

function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\.+$/, '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Strips `user:pass@` from a URL for printing. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
}

function isExecutable(file: string): boolean {
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

function tail(file: string, lines = 25): string {
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

/** Sends a signal to the process group (children are started detached, so pid == pgid). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
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

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after `graceMs`. Works with or without a ChildProcess handle. */
async function terminate(pid: number, child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  const gone = (): boolean => (child ? hasExited(child) : !isAlive(pid));
  if (gone()) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (!gone() && Date.now() < deadline) await sleep(50);
  if (!gone()) {
    signalGroup(pid, 'SIGKILL');
    const hardDeadline = Date.now() + 2000;
    while (!gone() && Date.now() < hardDeadline) await sleep(50);
  }
}

/** Runs a command to completion with output appended to a log file. */
function runLogged(
  cmd: string,
  args: string[],
  logFile: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
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

// ---------------------------------------------------------------- probes

/** Raw RESP `PING` over TCP (or TLS for rediss://), with AUTH when the URL carries credentials. */
export function redisPing(url: string, timeoutMs = 2000): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new Error(`not a valid URL: ${redactUrl(url)}`));
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    return Promise.reject(new Error(`unsupported scheme ${u.protocol} (want redis:// or rediss://)`));
  }
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port || 6379);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  const resp = (...parts: string[]): string =>
    `*${parts.length}\r\n` + parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('');
  let payload = '';
  let expected = 1;
  if (pass) {
    payload += user ? resp('AUTH', user, pass) : resp('AUTH', pass);
    expected = 2;
  }
  payload += 'PING\r\n';

  return new Promise((res, rej) => {
    const sock =
      u.protocol === 'rediss:'
        ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host })
        : netConnect({ host, port });
    let buf = '';
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) rej(err);
      else res();
    };
    const timer = setTimeout(() => finish(new Error(`no answer to PING within ${timeoutMs} ms`)), timeoutMs);
    sock.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => sock.write(payload));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const lines = buf.split('\r\n');
      if (lines.length - 1 < expected) return;
      for (const line of lines.slice(0, expected)) {
        if (line.startsWith('-')) return finish(new Error(`server replied ${line.slice(1)}`));
      }
      const last = lines[expected - 1] ?? '';
      if (last === '+PONG') finish();
      else finish(new Error(`unexpected reply to PING: ${JSON.stringify(last.slice(0, 80))}`));
    });
    sock.once('error', (err) => finish(err));
    sock.once('close', () => finish(new Error('connection closed before PONG')));
  });
}

/** MongoDB `ping` through the real driver (also exercises the `hello` handshake). */
export async function mongoPing(uri: string, timeoutMs = 2000): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
    maxPoolSize: 1,
  });
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close(true).catch(() => undefined);
  }
}

function tcpConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((res) => {
    const sock = netConnect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      res(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function httpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer().catch(() => undefined);
    return r.status === 200;
  } catch {
    return false;
  }
}

async function httpAnswers(url: string, timeoutMs = 5000): Promise<void> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await r.arrayBuffer().catch(() => undefined);
}

// ---------------------------------------------------------------- process start

class StartFailure extends Error {
  /** True when the process exited before becoming ready (worth retrying on another port). */
  readonly exitedEarly: boolean;
  constructor(message: string, exitedEarly: boolean) {
    super(message);
    this.exitedEarly = exitedEarly;
  }
}

interface Run {
  dir: string;
  persistent: boolean;
  started: Started[];
}

/**
 * Spawns `cmd` with output to `logFile`, in its own process group, then polls
 * `ready()` until it resolves true or `timeoutMs` passes.
 */
async function spawnAndWait(
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
  },
): Promise<Started> {
  const fd = openSync(spec.logFile, 'w');
  const child = spawn(spec.cmd, spec.args, {
    cwd: spec.cwd ?? run.dir,
    stdio: ['ignore', fd, fd],
    detached: true, // own process group: a Ctrl-C meant for the test run must not kill the servers mid-test
    env: process.env,
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
async function withPortRetry<T>(attempt: (port: number) => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    const port = await freePort();
    try {
      return await attempt(port);
    } catch (err) {
      if (!(err instanceof StartFailure) || !err.exitedEarly || i >= 3) throw err;
    }
  }
}

// ---------------------------------------------------------------- run bookkeeping

const RUN_PREFIX = 'run-';

function pidsFile(run: Run): string {
  return join(run.dir, 'pids');
}

/** `<pid> <impl>` lines, so a later run can reap servers orphaned by a crashed run. */
function recordPids(run: Run): void {
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
function reapStaleRuns(): void {
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

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tenant-provisioner');
}

// ---------------------------------------------------------------- Redis

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

async function installRedis(): Promise<string> {
  const advice = 'Install Redis (e.g. `apt-get install redis-server` or `brew install redis`) or set REDIS_URL to a running server.';
  if (!findOnPath('apt-get')) throw new Error(`redis-server is not on PATH and apt-get is not available. ${advice}`);
  if (!isRoot()) throw new Error(`redis-server is not on PATH and installing it needs root (you are not root). ${advice}`);
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(stateDir, 'apt-get.log');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`redis-server not found: running apt-get update && apt-get install -y redis-server (output in ${logFile})…`);
  const t0 = Date.now();
  let code = await runLogged('apt-get', ['update'], logFile, { env });
  if (code === 0) code = await runLogged('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], logFile, { env });
  const bin = findOnPath('redis-server') ?? ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find(isExecutable);
  if (code !== 0 || !bin) {
    throw new Error(`apt-get could not install redis-server (exit ${code}). ${advice}\n  log (${logFile}):\n${tail(logFile)}`);
  }
  log(`installed redis-server in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return bin;
}

async function ensureRedis(run: Run): Promise<ServiceInfo> {
  const existing = process.env.REDIS_URL;
  if (existing) {
    try {
      await redisPing(existing, 5000);
    } catch (err) {
      throw new Error(`REDIS_URL is set (${redactUrl(existing)}) but that server does not answer PING: ${errorMessage(err)}. Start it, or unset REDIS_URL to let this script start a local one.`);
    }
    return { name: 'redis', impl: 'external', envVar: 'REDIS_URL', url: existing, source: 'reused' };
  }
  const bin = findOnPath('redis-server') ?? (await installRedis());
  return withPortRetry(async (port) => {
    const dir = join(run.dir, `redis-${port}`);
    mkdirSync(dir, { recursive: true });
    const url = `redis://127.0.0.1:${port}`;
    await spawnAndWait(run, {
      name: 'redis',
      impl: 'redis-server',
      cmd: bin,
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir],
      logFile: join(run.dir, 'redis.log'),
      dataDirs: [dir],
      timeoutMs: 15_000,
      ready: () => redisPing(url, 1000).then(() => true),
    });
    return { name: 'redis', impl: 'redis-server', envVar: 'REDIS_URL', url, source: 'started' };
  });
}

// ---------------------------------------------------------------- MongoDB / FerretDB

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
    throw new Error(`go build of tools/ferretdb failed (exit ${code}). Set MONGODB_URI to use an existing server instead.\n  log (${logFile}):\n${tail(logFile)}`);
  }
  renameSync(tmp, bin); // atomic: a concurrent run sees either no binary or a whole one
  log(`built FerretDB in ${((Date.now() - t0) / 1000).toFixed(0)} s -> ${bin}`);
  return bin;
}

async function ensureMongo(run: Run): Promise<ServiceInfo> {
  const existing = process.env.MONGODB_URI;
  if (existing) {
    try {
      await mongoPing(existing, 10_000);
    } catch (err) {
      throw new Error(`MONGODB_URI is set (${redactUrl(existing)}) but that server does not answer ping: ${errorMessage(err)}. Start it, or unset MONGODB_URI to let this script start a local one.`);
    }
    return { name: 'mongodb', impl: 'external', envVar: 'MONGODB_URI', url: existing, source: 'reused' };
  }

  const mongod = findOnPath('mongod');
  const impl = mongod ? 'mongod' : 'ferretdb';
  const bin = mongod ?? (await ensureFerretBinary());
  return withPortRetry(async (port) => {
    const dir = join(run.dir, `${impl}-${port}`);
    mkdirSync(dir, { recursive: true });
    const url = `mongodb://127.0.0.1:${port}/`;
    const args = mongod
      ? ['--dbpath', dir, '--bind_ip', '127.0.0.1', '--port', String(port)]
      : ['-listen', `127.0.0.1:${port}`, '-dir', dir];
    await spawnAndWait(run, {
      name: 'mongodb',
      impl,
      cmd: bin,
      args,
      logFile: join(run.dir, `${impl}.log`),
      dataDirs: [dir],
      timeoutMs: 30_000,
      // Cheap TCP probe first; the driver ping (hello + ping) only once the port accepts.
      ready: async () => (await tcpConnect('127.0.0.1', port)) && mongoPing(url, 2000).then(() => true),
    });
    return { name: 'mongodb', impl, envVar: 'MONGODB_URI', url, source: 'started' };
  });
}

// ---------------------------------------------------------------- AWS (moto)

async function findOrInstallMoto(): Promise<string> {
  const onPath = findOnPath('moto_server');
  if (onPath) return onPath;
  const venv = join(cacheDir(), 'moto-venv');
  const venvBin = join(venv, 'bin', 'moto_server');
  if (existsSync(venvBin)) return venvBin;
  const advice = `Install it with \`pip install "${MOTO_SPEC}"\` or set AWS_ENDPOINT_URL to a running emulator.`;
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) throw new Error(`moto_server is not on PATH and there is no python3. ${advice}`);
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(stateDir, 'moto-install.log');
  writeFileSync(logFile, '');
  // A private venv: works on Debian's "externally managed" system Python too.
  log(`moto_server not found: installing "${MOTO_SPEC}" into ${venv} (output in ${logFile})…`);
  let code = await runLogged(python, ['-m', 'venv', venv], logFile);
  if (code === 0) code = await runLogged(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', MOTO_SPEC], logFile);
  if (code !== 0 || !existsSync(venvBin)) {
    rmSync(venv, { recursive: true, force: true });
    throw new Error(`could not install moto (exit ${code}). ${advice}\n  log (${logFile}):\n${tail(logFile)}`);
  }
  return venvBin;
}

async function ensureAws(run: Run): Promise<ServiceInfo> {
  const existing = process.env.AWS_ENDPOINT_URL;
  if (existing) {
    try {
      await httpAnswers(existing);
    } catch (err) {
      throw new Error(`AWS_ENDPOINT_URL is set (${redactUrl(existing)}) but nothing answers there: ${errorMessage(err)}. Start it, or unset AWS_ENDPOINT_URL to let this script start moto_server.`);
    }
    return { name: 'aws', impl: 'external', envVar: 'AWS_ENDPOINT_URL', url: existing, source: 'reused' };
  }
  const bin = await findOrInstallMoto();
  return withPortRetry(async (port) => {
    const url = `http://127.0.0.1:${port}`;
    await spawnAndWait(run, {
      name: 'aws',
      impl: 'moto_server',
      cmd: bin,
      args: ['-H', '127.0.0.1', '-p', String(port)],
      logFile: join(run.dir, 'moto.log'),
      dataDirs: [],
      timeoutMs: 30_000,
      ready: () => httpOk(`${url}/moto-api/`),
    });
    return { name: 'aws', impl: 'moto_server', envVar: 'AWS_ENDPOINT_URL', url, source: 'started' };
  });
}

// ---------------------------------------------------------------- local emulators

async function ensureEmulators(run: Run): Promise<ServiceInfo> {
  const existing = process.env.STRIPE_API_URL;
  if (existing) return { name: 'emulators', impl: 'external', envVar: 'STRIPE_API_URL', url: existing, source: 'reused' };
  const envFile = join(run.dir, 'emulators.env.json');
  rmSync(envFile, { force: true });
  await spawnAndWait(run, {
    name: 'emulators',
    impl: 'emulators',
    cmd: process.execPath,
    args: [join(repoRoot, 'src', 'local', 'serve.ts'), envFile],
    cwd: repoRoot,
    logFile: join(run.dir, 'emulators.log'),
    dataDirs: [],
    timeoutMs: 30_000,
    ready: async () => existsSync(envFile),
  });
  const parsed: unknown = JSON.parse(readFileSync(envFile, 'utf8'));
  const extraEnv: Record<string, string> = {};
  if (parsed !== null && typeof parsed === 'object') {
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') extraEnv[k] = v;
  }
  return { name: 'emulators', impl: 'emulators', envVar: 'STRIPE_API_URL', url: extraEnv['STRIPE_API_URL'] ?? '', source: 'started', extraEnv };
}

// ---------------------------------------------------------------- public API

async function stopRun(run: Run, removeDir: boolean): Promise<void> {
  const procs = run.started.splice(0).reverse();
  await Promise.all(procs.map((p) => terminate(p.pid, p.child)));
  for (const p of procs) for (const d of p.dataDirs) rmSync(d, { recursive: true, force: true });
  if (removeDir) rmSync(run.dir, { recursive: true, force: true });
  else rmSync(pidsFile(run), { force: true });
}

/**
 * Makes Redis and MongoDB (and the AWS emulator when `wantAws`) available:
 * reuses REDIS_URL / MONGODB_URI / AWS_ENDPOINT_URL when set, else starts local
 * servers on free loopback ports. `stop()` stops only what this call started.
 */
export async function ensureServices(opts: EnsureOptions = {}): Promise<Services> {
  const persistent = opts.persistent ?? false;
  mkdirSync(stateDir, { recursive: true });
  reapStaleRuns();
  const dir = persistent ? join(stateDir, 'cli') : join(stateDir, `${RUN_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const run: Run = { dir, persistent, started: [] };

  // Safety net if the caller forgets stop() or exits abruptly: don't leave servers behind.
  const onExit = (): void => {
    for (const p of run.started) if (!hasExited(p.child)) signalGroup(p.pid, 'SIGTERM');
  };
  if (!persistent) process.on('exit', onExit);

  const services: ServiceInfo[] = [];
  try {
    // Independent; start them concurrently (the FerretDB build dominates a cold start).
    const tasks = [ensureRedis(run), ensureMongo(run)];
    if (opts.wantAws) tasks.push(ensureAws(run));
    if (opts.wantEmulators) tasks.push(ensureEmulators(run));
    const results = await Promise.allSettled(tasks);
    const failures: string[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') services.push(r.value);
      else failures.push(errorMessage(r.reason));
    }
    if (failures.length > 0) throw new Error(failures.join('\n\n'));
  } catch (err) {
    await stopRun(run, !persistent);
    process.off('exit', onExit);
    throw err;
  }

  const env: Record<string, string> = {};
  for (const s of services) Object.assign(env, { [s.envVar]: s.url }, s.extraEnv);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Keep the run's logs until the next run reaps the folder; remove data now.
    await stopRun(run, false);
    process.off('exit', onExit);
  };
  return { env, stop, services };
}

// ---------------------------------------------------------------- CLI

const cliDir = join(stateDir, 'cli');

function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${v}`)
    .join('\n');
}

function readCliPids(): Array<{ pid: number; impl: string }> {
  try {
    return readFileSync(join(cliDir, 'pids'), 'utf8')
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter((p): p is [string, string] => p.length === 2)
      .map(([pid, impl]) => ({ pid: Number(pid), impl }));
  } catch {
    return [];
  }
}

async function cli(argv: string[]): Promise<number> {
  const cmd = argv[0] ?? 'status';
  if (cmd === 'start') {
    const running = readCliPids().filter((p) => isAlive(p.pid));
    if (running.length > 0 && existsSync(join(cliDir, 'env'))) {
      log(`already running (${running.map((p) => `${p.impl} pid ${p.pid}`).join(', ')}); \`npm run services stop\` to stop`);
      process.stdout.write(readFileSync(join(cliDir, 'env'), 'utf8'));
      return 0;
    }
    await stopCli(); // leftovers of a half-dead previous start
    const wantAws = argv.includes('--aws') || process.env.WITH_AWS === '1';
    const s = await ensureServices({ wantAws, wantEmulators: argv.includes('--emulators'), persistent: true });
    const lines = `${exportLines(s.env)}\n`;
    writeFileSync(join(cliDir, 'env'), lines);
    for (const svc of s.services) log(`${svc.source} ${svc.name} (${svc.impl}): ${redactUrl(svc.url)}`);
    log(`logs in ${cliDir}; stop with \`node scripts/services.ts stop\``);
    process.stdout.write(lines);
    return 0;
  }
  if (cmd === 'stop') {
    const n = await stopCli();
    log(n > 0 ? `stopped ${n} service(s)` : 'nothing to stop');
    return 0;
  }
  if (cmd === 'status') {
    const pids = readCliPids();
    if (pids.length === 0) {
      log('no services started by `services start`');
      return 1;
    }
    let allUp = true;
    for (const p of pids) {
      const up = isAlive(p.pid);
      allUp &&= up;
      log(`${p.impl} pid ${p.pid}: ${up ? 'running' : 'NOT running'}`);
    }
    if (existsSync(join(cliDir, 'env'))) process.stdout.write(readFileSync(join(cliDir, 'env'), 'utf8'));
    return allUp ? 0 : 1;
  }
  process.stderr.write('usage: node scripts/services.ts start [--aws] [--emulators] | stop | status\n');
  return 2;
}

async function stopCli(): Promise<number> {
  const pids = readCliPids().filter((p) => isAlive(p.pid));
  await Promise.all(pids.map((p) => terminate(p.pid, undefined)));
  rmSync(cliDir, { recursive: true, force: true });
  return pids.length;
}

if (import.meta.main) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`[services] ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
