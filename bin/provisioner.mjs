#!/usr/bin/env node
// The `provisioner` command. Plain JavaScript on purpose: it may be started by
// the machine's own (older) Node, and hands over to the project's Node 24.
// When REDIS_URL / MONGODB_URI are not set it starts (once) and reuses local
// services that outlive the command, so `provision` in one terminal and
// `approve` in another see the same jobs. `npm run services stop` stops them.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = join(root, 'node_modules', '.bin', 'node');

if (!existsSync(node)) execFileSync('sh', [join(root, 'scripts', 'bootstrap.sh')], { stdio: 'inherit' });

const env = { ...process.env };
if (!env.REDIS_URL || !env.MONGODB_URI) {
  const exports = execFileSync(node, [join(root, 'scripts', 'services.ts'), 'start', '--aws', '--emulators'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const match of exports.matchAll(/^export (\w+)=(.*)$/gm)) env[match[1]] ??= match[2];
}

const child = spawn(node, [join(root, 'src', 'cli', 'main.ts'), ...process.argv.slice(2)], { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
