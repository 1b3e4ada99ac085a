// The local profile's Stripe/Okta/SMTP/webhook emulators (src/emulators/serve.ts)
// as one child process: reuse them when STRIPE_API_URL is set, else start
// serve.ts with the project's Node and wait for the JSON file of endpoint
// variables it writes once every emulator listens.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './common.ts';
import type { Run } from './runs.ts';
import { spawnAndWait } from './spawn.ts';
import type { ServiceInfo } from './types.ts';

export async function ensureEmulators(run: Run): Promise<ServiceInfo> {
  const existing = process.env.STRIPE_API_URL;
  if (existing) return { name: 'emulators', impl: 'external', envVar: 'STRIPE_API_URL', url: existing, source: 'reused' };
  const envFile = join(run.dir, 'emulators.env.json');
  rmSync(envFile, { force: true });
  await spawnAndWait(run, {
    name: 'emulators',
    impl: 'emulators',
    cmd: process.execPath,
    args: [join(repoRoot, 'src', 'emulators', 'serve.ts'), envFile],
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
