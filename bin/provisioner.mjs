#!/usr/bin/env node
// The `provisioner` command. Plain JavaScript on purpose: it may be started by
// the machine's own (older) Node, and hands over to the project's Node 24.
// It starts no servers itself: src/cli/main.ts parses the command line first,
// and only a command that needs them starts (once) or reuses the local servers
// (when REDIS_URL / MONGODB_URI are not set), which outlive the command so
// `provision` in one terminal and `approve` in another see the same jobs.
// `npm run services stop` stops them.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = join(root, 'node_modules', '.bin', 'node');

if (!existsSync(node)) execFileSync('sh', [join(root, 'scripts', 'bootstrap.sh')], { stdio: 'inherit' });

// How Node starts (bin/node-launch.json), each worth about 30 MB of a worker's memory (README: Memory):
// - its young generation capped: Node lets it grow to 3 × 64 MB on a machine with this much memory, and a
//   worker's steps make short-lived garbage fast enough to fill it (NODE_OPTIONS may choose another size);
// - its compile cache on: our TypeScript, stripped once and kept with its compiled code, so a process does
//   not load the type stripper at all (NODE_COMPILE_CACHE may put it elsewhere; a read-only folder only
//   costs the saving).
const launch = JSON.parse(readFileSync(join(root, 'bin', 'node-launch.json'), 'utf8'));
const chosen = process.env.NODE_OPTIONS?.includes('--max-semi-space-size') ?? false;
const env = { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(root, launch.compileCache) };

const child = spawn(node, [...(chosen ? [] : launch.flags), join(root, 'src', 'cli', 'main.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
