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
const config = loadConfig();
const emulators = await startLocalEmulators(config);
// Subscription changes reach `provisioner serve` on this machine the way Stripe's webhooks would.
const stripeSecret = config.billing.stripeWebhookSecret;
if (stripeSecret) {
  emulators.stripe.sendWebhooksTo({ url: `http://127.0.0.1:${config.observability.http.port}/webhooks/stripe`, secret: stripeSecret });
}
// Written whole, then renamed: a reader never sees half a file.
writeFileSync(`${envFile}.tmp`, JSON.stringify(emulators.env));
renameSync(`${envFile}.tmp`, envFile);
console.log(`emulators ready: ${JSON.stringify(emulators.env)}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void emulators.close().then(() => process.exit(0)));
}
