// Local services for tests, the demo and the bench: Redis, a MongoDB-wire
// server and (optionally) an AWS emulator and the local profile's emulators.
//
// For each service: reuse the one named by its env URL when set, otherwise
// start one on a free loopback port (installing / building what is missing).
//
//   Redis     REDIS_URL          else redis-server (apt-get install if missing)
//   MongoDB   MONGODB_URI        else mongod on PATH, else FerretDB built from tools/ferretdb, on a
//                                private PostgreSQL (FERRETDB_HANDLER=sqlite: on SQLite files)
//   AWS       AWS_ENDPOINT_URL   else moto_server (pip install into a cached venv if missing)
//   Emulators STRIPE_API_URL     else src/emulators/serve.ts (Stripe, Okta, SMTP, webhook)
//
// Library: `ensureServices({ wantAws, wantEmulators })` -> { env, stop, services };
//          `startPersistentServices({ wantAws, wantEmulators })` -> env, for servers
//          that outlive the caller (the provisioner CLI asks for them, src/cli/local-services.ts).
// CLI:     node scripts/services.ts start [--aws] [--emulators] | stop | status
//          `start` detaches the servers into .local/services/cli so they outlive
//          the command (`npm run services`).
//
// This file is the entry point (CLI + the library's public names); the parts
// live in scripts/services/. Only Node built-ins there (plus the project's own
// `mongodb` driver, loaded lazily for the MongoDB readiness check).

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, log, stateDir } from './services/common.ts';
import { ensureServices } from './services/ensure.ts';
import { redactUrl } from './services/probes.ts';
import { isAlive, terminate } from './services/process.ts';
import { stopSignal } from './services/runs.ts';

export { repoRoot, stateDir } from './services/common.ts';
export { ensureServices } from './services/ensure.ts';
export { ensureFerretBinary, ferretHash } from './services/mongo.ts';
export { mongoPing, redactUrl, redisPing } from './services/probes.ts';
export { findOnPath } from './services/process.ts';
export { freePort } from './services/spawn.ts';
export type { EnsureOptions, ServiceInfo, Services } from './services/types.ts';

const cliDir = join(stateDir, 'cli');
const cliEnvFile = join(cliDir, 'env');

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

function parseExportLines(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((match) => [match[1] ?? '', match[2] ?? '']));
}

type PersistentOptions = { wantAws: boolean; wantEmulators: boolean };

/** The persistent servers already running, when every one of them still runs and they include what is wanted. */
function runningPersistentServices(opts: PersistentOptions): Record<string, string> | undefined {
  const pids = readCliPids();
  if (pids.length === 0 || !pids.every((p) => isAlive(p.pid)) || !existsSync(cliEnvFile)) return undefined;
  const env = parseExportLines(readFileSync(cliEnvFile, 'utf8'));
  const covers = (!opts.wantAws || 'AWS_ENDPOINT_URL' in env) && (!opts.wantEmulators || 'STRIPE_API_URL' in env);
  return covers ? env : undefined;
}

/**
 * Servers that outlive the caller, in .local/services/cli, so commands run one after
 * another (or in different terminals) see the same jobs: reused while they all run,
 * else (re)started detached. Returns their environment variables.
 */
export async function startPersistentServices(opts: PersistentOptions): Promise<Record<string, string>> {
  const running = runningPersistentServices(opts);
  if (running) return running;
  await stopCli(); // leftovers of a half-dead previous start
  const s = await ensureServices({ ...opts, persistent: true });
  writeFileSync(cliEnvFile, `${exportLines(s.env)}\n`);
  for (const svc of s.services) log(`${svc.source} ${svc.name} (${svc.impl}): ${redactUrl(svc.url)}`);
  log(`they keep running for the next command (logs in ${cliDir}); stop them with \`npm run services stop\``);
  return s.env;
}

async function cli(argv: string[]): Promise<number> {
  const cmd = argv[0] ?? 'status';
  if (cmd === 'start') {
    const wantAws = argv.includes('--aws') || process.env.WITH_AWS === '1';
    const env = await startPersistentServices({ wantAws, wantEmulators: argv.includes('--emulators') });
    process.stdout.write(`${exportLines(env)}\n`);
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
    if (existsSync(cliEnvFile)) process.stdout.write(readFileSync(cliEnvFile, 'utf8'));
    return allUp ? 0 : 1;
  }
  process.stderr.write('usage: node scripts/services.ts start [--aws] [--emulators] | stop | status\n');
  return 2;
}

async function stopCli(): Promise<number> {
  const pids = readCliPids().filter((p) => isAlive(p.pid));
  await Promise.all(pids.map((p) => terminate(p.pid, undefined, undefined, stopSignal(p.impl))));
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
