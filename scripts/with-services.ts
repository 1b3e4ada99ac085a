// Usage: node scripts/with-services.ts [--browser] <cmd> [args…]
//
// --browser also finds (or installs) Debian's Chromium for the browser tests and
// passes its path as CHROMIUM_PATH (unless CHROMIUM_PATH is already set).
//
// Ensures Redis + MongoDB + the AWS emulator (skip AWS with WITHOUT_AWS=1) via
// ensureServices(), runs <cmd> with their URLs in its env, then stops the
// services it started and exits with the command's exit code.

import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { ensureChromium } from './services/chromium.ts';
import { ensureServices, redactUrl, repoRoot, type ServiceInfo } from './services.ts';

function describe(list: ServiceInfo[]): string {
  return list.length === 0 ? 'none' : list.map((s) => `${s.envVar}=${redactUrl(s.url)}${s.impl === 'external' ? '' : ` (${s.impl})`}`).join(' ');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const wantBrowser = argv[0] === '--browser';
  const [cmd, ...args] = wantBrowser ? argv.slice(1) : argv;
  if (!cmd) {
    process.stderr.write('usage: node scripts/with-services.ts <cmd> [args…]\n');
    return 2;
  }

  // A signal while services are still starting (e.g. during the first FerretDB
  // build): exit, and let ensureServices' exit hook stop whatever it started.
  const abort = (): void => process.exit(1);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, abort);

  const t0 = Date.now();
  const [services, chromium] = await Promise.all([
    ensureServices({ wantAws: process.env.WITHOUT_AWS !== '1' }),
    wantBrowser && !process.env.CHROMIUM_PATH ? ensureChromium() : Promise.resolve(process.env.CHROMIUM_PATH),
  ]);
  const started = services.services.filter((s) => s.source === 'started');
  const reused = services.services.filter((s) => s.source === 'reused');
  process.stderr.write(`[with-services] started: ${describe(started)} | reused: ${describe(reused)} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);

  // Like `npm run`: the project's node_modules/.bin first, so `vitest` resolves and `node` is v24.
  const binDir = join(repoRoot, 'node_modules', '.bin');
  const path = process.env.PATH ?? '';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...services.env,
    ...(chromium ? { CHROMIUM_PATH: chromium } : {}),
    PATH: path.split(delimiter).includes(binDir) ? path : [binDir, path].filter(Boolean).join(delimiter),
  };

  const child = spawn(cmd, args, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of signals) {
    process.off(s, abort);
    process.on(s, forward);
  }

  const code = await new Promise<number>((res) => {
    child.once('error', (err) => {
      process.stderr.write(`[with-services] cannot run ${cmd}: ${err.message}\n`);
      res(127);
    });
    child.once('exit', (exitCode, signal) => res(exitCode ?? (signal ? 1 : 0)));
  });

  await services.stop();
  for (const s of signals) process.off(s, forward);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[with-services] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
