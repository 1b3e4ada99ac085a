/**
 * Runs the local emulators (Stripe, Okta, SMTP, webhook receivers) as their
 * own process, for `provisioner` commands in the local profile: started once
 * by scripts/services.ts, shared by every command. Writes the variables that
 * point the bot at them to the file named on the command line (the readiness
 * signal), then serves until stopped.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../config.ts';
import { startLocalEmulators } from './emulators.ts';

const envFile = process.argv[2];
if (!envFile) throw new Error('usage: node src/emulators/serve.ts <env-file>');
const emulators = await startLocalEmulators(loadConfig());
// Written whole, then renamed: a reader never sees half a file.
writeFileSync(`${envFile}.tmp`, JSON.stringify(emulators.env));
renameSync(`${envFile}.tmp`, envFile);
console.log(`emulators ready: ${JSON.stringify(emulators.env)}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void emulators.close().then(() => process.exit(0)));
}
